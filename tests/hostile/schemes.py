"""The signature schemes the hostile corpus runs under, and how each signs and is tampered.

Signing here is written from each scheme's description with the standard library (not with
``core.signing``), so a case cannot pass because the code under test signed it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.signing import SchemeConfig, resolve
from core.signing.config import SETTING_NAMES

Header = tuple[bytes | str, bytes | str]
Mutation = tuple[str, str]  # (case name, signature header value)


def _digest(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).digest()


def _enc(digest: bytes, encoding: str) -> str:
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def _flip(value: str, at: int) -> str:
    return value[:at] + ("A" if value[at] not in "Aa" else "B") + value[at + 1 :]


@dataclass(frozen=True)
class CorpusScheme:
    """One receiver configuration and the sender side of it."""

    name: str
    config: SchemeConfig
    settings: dict[str, str] = field(default_factory=dict)

    # -- keys and signing -------------------------------------------------------------------

    def key(self, secret: str) -> bytes:
        if self.config.key_encoding == "text":
            return secret.encode()
        return base64.b64decode(secret.removeprefix("whsec_"))

    def signed_content(self, msg_id: str, ts: int, body: bytes) -> bytes:
        if self.config.scheme == "standard-webhooks":
            return f"{msg_id}.{ts}.".encode() + body
        if self.config.scheme == "stripe-style":
            return f"{ts}.".encode() + body
        head = self.config.signed_content.removesuffix("{body}")
        return head.replace("{timestamp}", str(ts)).replace("{id}", msg_id).encode() + body

    def signature(self, secret: str, msg_id: str, ts: int, body: bytes) -> str:
        """One signature value (the element a header holds one or more of)."""
        digest = _digest(self.key(secret), self.signed_content(msg_id, ts, body))
        if self.config.scheme == "standard-webhooks":
            return "v1," + _enc(digest, "base64")
        if self.config.scheme == "stripe-style":
            return "v1=" + _enc(digest, self.config.encoding)
        return self.config.prefix + _enc(digest, self.config.encoding)

    def join(self, values: list[str], ts: int | str) -> str:
        """A signature header holding ``values`` (stripe-style: with ``t=``)."""
        if self.config.scheme == "stripe-style":
            return ",".join([f"t={ts}", *values])
        return " ".join(values)

    def sig_value(self, secret: str, msg_id: str, ts: int, body: bytes) -> str:
        return self.join([self.signature(secret, msg_id, ts, body)], ts)

    @property
    def signature_header(self) -> str:
        return self.config.signature_header

    @property
    def id_header(self) -> str:
        return self.config.id_header

    @property
    def timestamp_header(self) -> str:
        """The separate timestamp header, or "" (none, or inside the signature header)."""
        if self.config.scheme == "stripe-style" or not self.config.signs_timestamp:
            return ""
        return self.config.timestamp_header

    @property
    def has_timestamp(self) -> bool:
        return self.config.signs_timestamp

    @property
    def signed_headers(self) -> tuple[str, ...]:
        return tuple(h for h in (self.id_header, self.timestamp_header, self.signature_header) if h)

    def headers(
        self,
        msg_id: str,
        body: bytes,
        *,
        ts: int,
        secret: str,
        ts_text: str | None = None,
        signed_id: str | None = None,
    ) -> tuple[Header, ...]:
        """Correct headers; ``ts_text`` puts another timestamp text in the header than the
        signed ``ts``; ``signed_id`` signs another id than the one sent."""
        shown_ts = str(ts) if ts_text is None else ts_text
        value = self.join([self.signature(secret, signed_id or msg_id, ts, body)], shown_ts)
        headers: list[Header] = []
        if self.id_header:
            headers.append((self.id_header, msg_id))
        if self.timestamp_header:
            headers.append((self.timestamp_header, shown_ts))
        headers.append((self.signature_header, value))
        return tuple(headers)

    # -- what is wrong with a signature header, per scheme -----------------------------------

    def mutations(self, good: str, other: str, ts: int) -> Iterator[Mutation]:
        """(name, header value) pairs that must all be refused; ``good``/``other`` are one
        signature value each (ours, a rotated-out secret's)."""
        yield "signature from a rotated-out secret", self.join([other], ts)
        yield "signature header just over 4096 chars", self.join([other] * 200, ts)[:4097]
        yield "signature of a rotated-out secret repeated 60 times", self.join([other] * 60, ts)
        yield from self._specific(good, ts)

    def _specific(self, good: str, ts: int) -> Iterator[Mutation]:
        j = self.join
        if self.config.scheme == "standard-webhooks":
            yield "signature v1 with nothing after the comma", "v1,"
            yield "signature v1 with invalid base64", "v1,!!!!notbase64!!!!"
            yield "signature v1 of 31 bytes", "v1," + "A" * 40 + "=="
            yield "signature v1 of 64 bytes", "v1," + "A" * 86 + "=="
            yield "signature with an unknown version only", good.replace("v1,", "v2,")
            yield "signature with upper-case version", good.replace("v1,", "V1,")
            yield "signature without the version", good.removeprefix("v1,")
            yield "signature with the = separator", good.replace("v1,", "v1=")
            yield "signature url-safe base64 of another value", "v1," + "-_" * 21 + "AA="
            yield "signature hex-encoded", "v1," + "ab" * 32
            # (not the last base64 character: its low bits are padding and may decode the same)
            yield "signature with one flipped character", _flip(good, 10)
            return
        if self.config.scheme == "stripe-style":
            digest = good.removeprefix("v1=")
            yield "signature v1 with nothing after the =", j(["v1="], ts)
            yield "signature v1 not hex", j(["v1=" + "zz" * 32], ts)
            yield "signature v1 of 31 bytes", j(["v1=" + "ab" * 31], ts)
            yield "signature v1 of 64 bytes", j(["v1=" + "ab" * 64], ts)
            yield "signature with an unknown scheme only", j(["v0=" + digest], ts)
            yield "signature with upper-case scheme", j(["V1=" + digest], ts)
            yield "signature without the scheme", j([digest], ts)
            yield "signature with the , separator", j(["v1," + digest], ts)
            yield (
                "signature base64 instead of hex",
                j(["v1=" + base64.b64encode(bytes.fromhex(digest)).decode()], ts),
            )
            yield "signature with one flipped character", j([_flip(good, 10)], ts)
            yield "signature without t=", f"{good}"
            yield "signature with two t=", f"t={ts},t={ts},{good}"
            yield "signature with t= empty", f"t=,{good}"
            return
        prefix = self.config.prefix
        digest = good.removeprefix(prefix)
        other_encoding = "base64" if self.config.encoding == "hex" else "hex"
        raw = bytes.fromhex(digest) if self.config.encoding == "hex" else base64.b64decode(digest)
        yield "signature prefix only", prefix
        yield "signature not in the encoding", prefix + "!" * len(digest)
        yield "signature of 31 bytes", prefix + _enc(raw[:31], self.config.encoding)
        yield "signature of 64 bytes", prefix + _enc(raw * 2, self.config.encoding)
        yield f"signature in {other_encoding}", prefix + _enc(raw, other_encoding)
        yield "signature with one flipped character", _flip(good, len(prefix) + 3)
        if prefix:
            yield "signature without its prefix", digest
            yield "signature with an upper-case prefix", prefix.upper() + digest
        else:
            yield "signature with a sha256= prefix", "sha256=" + digest

    def controls(self, good: str, other: str, ts: int) -> Iterator[Mutation]:
        """Header values holding ours among others: accepted."""
        yield "signature list with the rotated-out one first", self.join([other, good], ts)
        if self.config.scheme == "stripe-style":
            yield (
                "signature list with garbage and an unknown scheme around ours",
                f"t={ts},garbage,v0=abcd,{good},v1=@@",
            )
        else:
            yield (
                "signature list with garbage and an unknown version around ours",
                self.join(["garbage", "v2,AAAA", good, "v1,@@"], ts),
            )


def _scheme(name: str, scheme: Any, **settings: str) -> CorpusScheme:
    """``settings``: core.signing fields; kept as the receiver's Settings keyword arguments."""
    env = {"billoget_signature_scheme": scheme} | {
        SETTING_NAMES[k].lower(): v for k, v in settings.items()
    }
    return CorpusScheme(name, resolve(scheme, **settings), env)


SCHEMES: list[CorpusScheme] = [
    _scheme("standard-webhooks", "standard-webhooks"),
    _scheme("stripe-style", "stripe-style"),
    _scheme("hmac-sha256 of the body", "hmac-sha256"),
    _scheme(
        "hmac-sha256 of id.timestamp.body",
        "hmac-sha256",
        signature_header="X-Signature",
        timestamp_header="X-Timestamp",
        id_header="X-Delivery-Id",
        encoding="base64",
        prefix="sha256=",
        signed_content="{id}.{timestamp}.{body}",
    ),
]
STANDARD = SCHEMES[0]
SchemeHeaders = Callable[..., tuple[Header, ...]]
