"""The hostile-input corpus: named raw requests and what the receiver must answer.

Every case is sent as raw bytes (:mod:`tests.hostile.rawhttp`) to a real receiver whose clock
is fixed at :data:`NOW`, its body cap :data:`MAX_BODY` and its only active secret
``TEST_SECRET`` (``OTHER_SECRET`` plays the rotated-out one). The corpus is built once per
signature scheme (:mod:`tests.hostile.schemes`): the same attacks on that scheme's headers.
A case expects a set of statuses: 4xx for everything hostile, 200 for the legitimate controls
(which must store exactly ``stores`` new rows). ``before`` holds legitimate deliveries sent
first (replays).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.hostile.schemes import SCHEMES, STANDARD, CorpusScheme

NOW = 1_700_000_000
TOLERANCE_S = 300
MAX_BODY = 64 * 1024
WEBHOOK_PATH = "/webhooks/billoget"
Header = tuple[bytes | str, bytes | str]

REJECTED_401 = frozenset({401})
REJECTED_400 = frozenset({400})
OK = frozenset({200})


@dataclass(frozen=True)
class Case:
    name: str
    headers: tuple[Header, ...]
    body: bytes
    expect: frozenset[int]
    method: str = "POST"
    path: str = WEBHOOK_PATH
    content_length: int | bool | None = True
    chunked: bool = False
    stores: int = 0
    duplicate: bool | None = None
    before: tuple[Case, ...] = ()
    # False where aiohttp's HTTP parser answers before any of our code runs (plain text)
    json_error: bool = True
    error_code: str | None = None
    # send EOF after the request (a sender that stops short of its Content-Length); the
    # connection may then close without any answer, which is fine: the sender went away
    half_close: bool = False

    @property
    def accepted(self) -> bool:
        return self.expect <= OK


def slug(name: str) -> str:
    return "dlv_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def envelope(delivery_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "customer.updated",
        "timestamp": "2024-05-01T10:00:00Z",
        "data": {"id": 42, "name": "ACME"},
        "metadata": {"source": "billoget", "version": "1.0", "delivery_id": delivery_id},
    }
    body.update(overrides)
    return body


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def sig_headers(
    s: CorpusScheme, msg_id: str, body: bytes, *, ts: int = NOW, secret: str = TEST_SECRET
) -> tuple[Header, ...]:
    return (*s.headers(msg_id, body, ts=ts, secret=secret), ("Content-Type", "application/json"))


def legit(
    s: CorpusScheme, name: str, body: bytes | None = None, *, msg_id: str | None = None, **kw: Any
) -> Case:
    """A correctly signed, acceptable delivery (a control): 200, one new row."""
    msg_id = msg_id or slug(name)
    body = dumps(envelope(msg_id)) if body is None else body
    kw.setdefault("expect", OK)
    kw.setdefault("stores", 1)
    kw.setdefault("duplicate", False)
    return Case(name, sig_headers(s, msg_id, body), body, **kw)


def signed_bad_body(s: CorpusScheme, name: str, body: bytes, *, msg_id: str | None = None) -> Case:
    """Correctly signed, but the body is not a Billoget envelope: 400 invalid_payload."""
    msg_id = msg_id or slug(name)
    return Case(
        name, sig_headers(s, msg_id, body), body, REJECTED_400, error_code="invalid_payload"
    )


def bad_envelope(s: CorpusScheme, name: str, **overrides: Any) -> Case:
    msg_id = slug(name)
    return signed_bad_body(s, name, dumps(envelope(msg_id, **overrides)), msg_id=msg_id)


def with_headers(case: Case, name: str, *headers: Header, drop: tuple[str, ...] = ()) -> Case:
    """``case`` under a new name, without the headers named in ``drop``, plus ``headers``."""
    lowered = {d.lower() for d in drop}
    kept = tuple(
        h
        for h in case.headers
        if (h[0] if isinstance(h[0], str) else h[0].decode()).lower() not in lowered
    )
    return replace(case, name=name, headers=kept + headers)


def unverified(
    case: Case,
    name: str,
    *headers: Header,
    drop: tuple[str, ...] = (),
    expect: frozenset[int] = REJECTED_401,
    json_error: bool = True,
) -> Case:
    """A legit case with its headers tampered: must fail verification (nothing stored)."""
    changed = with_headers(case, name, *headers, drop=drop)
    return replace(
        changed,
        expect=expect,
        stores=0,
        duplicate=None,
        json_error=json_error,
        error_code="invalid_signature" if expect == REJECTED_401 else None,
    )


# -- the corpus ------------------------------------------------------------------------------


def _header_cases(s: CorpusScheme) -> Iterator[Case]:
    for header in s.signed_headers:
        base = legit(s, f"base {header}")
        yield unverified(base, f"{header} missing", drop=(header,))
        yield unverified(base, f"{header} empty", (header, ""), drop=(header,))
        value = next(v for k, v in base.headers if k == header)
        yield unverified(base, f"{header} duplicated with the same value", (header, value))
        yield unverified(base, f"{header} duplicated with another value", (header, "x1"))
        yield unverified(base, f"{header} garbage", (header, "%%%garbage%%%"), drop=(header,))
        yield unverified(base, f"{header} non-ASCII", (header, "ünïcödé✓".encode()), drop=(header,))
        yield unverified(base, f"{header} latin-1 bytes", (header, b"caf\xe9\xff"), drop=(header,))
        # a NUL byte in a header value: aiohttp's HTTP parser refuses the request itself
        yield unverified(
            base,
            f"{header} with a NUL byte",
            (header, b"abc\x00def"),
            drop=(header,),
            expect=frozenset({400, 401}),
            json_error=False,
        )
        yield unverified(base, f"{header} 5000 chars", (header, "A" * 5000), drop=(header,))
        yield unverified(
            base,
            f"{header} over aiohttp's 8 KiB field limit",
            (header, "A" * 9000),
            drop=(header,),
            expect=frozenset({400, 401, 431}),
            json_error=False,
        )
    base = legit(s, "base misc headers")
    signed = base.headers[: len(s.signed_headers)]
    yield unverified(base, "no signature headers at all", drop=s.signed_headers)
    yield unverified(
        base,
        "underscored header names",
        *[(str(k).replace("-", "_"), v) for k, v in signed],
        drop=s.signed_headers,
    )
    yield unverified(
        base,
        "the signature headers under other names only",
        *[(f"x-other-{k}", v) for k, v in signed],
        drop=s.signed_headers,
    )
    if s.config.scheme == "standard-webhooks":
        yield unverified(
            base,
            "svix-style header names only",
            *[(f"svix-{str(k)[8:]}", v) for k, v in signed],
            drop=s.signed_headers,
        )
    msg_id = slug("upper-case header names")
    body = dumps(envelope(msg_id))
    yield Case(
        "upper-case header names are the same headers",
        tuple((str(k).upper(), v) for k, v in sig_headers(s, msg_id, body)),
        body,
        OK,
        stores=1,
        duplicate=False,
    )


def _id_cases(s: CorpusScheme) -> Iterator[Case]:
    def signed_id(name: str, msg_id: str, *, meta_id: str | None = None) -> Case:
        body = dumps(envelope(meta_id if meta_id is not None else msg_id))
        return Case(name, sig_headers(s, msg_id, body), body, REJECTED_401)

    if not s.id_header:  # the envelope's metadata.delivery_id is the delivery id
        for name, bad in (
            ("with a space", "dlv with space"),
            ("with a tab", "dlv\tx"),
            ("non-ASCII", "dlv_ünï"),
            ("of 257 chars", "d" * 257),
            ("empty", ""),
        ):
            yield signed_bad_body(s, f"metadata.delivery_id {name}", dumps(envelope(bad)))
        yield legit(s, "metadata.delivery_id of exactly 256 chars", msg_id="d" * 256)
        yield legit(s, "metadata.delivery_id of printable punctuation", msg_id="dlv_<script>&'\"!~")
        return
    header = s.id_header
    yield signed_id(f"{header} with a space", "dlv with space")
    yield signed_id(f"{header} of 257 chars", "d" * 257)
    yield replace(
        signed_id(f"{header} with a tab", "dlv\tx"), expect=frozenset({400, 401}), json_error=False
    )
    yield replace(
        signed_id(
            f"{header} differs from metadata.delivery_id",
            slug("id mismatch"),
            meta_id="dlv_someone_else",
        ),
        expect=REJECTED_400,
        error_code="delivery_id_mismatch",
    )
    yield replace(
        signed_id(
            f"{header} matching a metadata id that differs in case", "dlv_case", meta_id="DLV_CASE"
        ),
        expect=REJECTED_400,
    )
    yield legit(s, f"{header} of exactly 256 chars", msg_id="d" * 256)
    yield legit(s, f"{header} of printable punctuation", msg_id="dlv_<script>&'\"!~")


def _timestamp_cases(s: CorpusScheme) -> Iterator[Case]:
    if not s.has_timestamp:
        # nothing signs a time: an unsigned timestamp header is no reason to refuse (or accept)
        msg_id = slug("an unsigned timestamp header")
        body = dumps(envelope(msg_id))
        yield Case(
            "a stale unsigned timestamp header is ignored",
            (*sig_headers(s, msg_id, body), ("X-Billoget-Timestamp", "0")),
            body,
            OK,
            stores=1,
            duplicate=False,
        )
        return

    def at(name: str, header: str, *, signed_ts: int, **kw: Any) -> Case:
        msg_id = slug(name)
        body = dumps(envelope(msg_id))
        headers = s.headers(msg_id, body, ts=signed_ts, secret=TEST_SECRET, ts_text=header)
        kw.setdefault("expect", REJECTED_401)
        return Case(name, headers, body, **kw)

    yield at(
        "timestamp stale by tolerance + 1 s",
        str(NOW - TOLERANCE_S - 1),
        signed_ts=NOW - TOLERANCE_S - 1,
    )
    yield at("timestamp a day old", str(NOW - 86400), signed_ts=NOW - 86400)
    yield at(
        "timestamp in the future by tolerance + 1 s",
        str(NOW + TOLERANCE_S + 1),
        signed_ts=NOW + TOLERANCE_S + 1,
    )
    yield at("timestamp zero", "0", signed_ts=0)
    yield at("timestamp float", f"{NOW}.5", signed_ts=NOW)
    yield at("timestamp negative", str(-NOW), signed_ts=-NOW)
    yield at("timestamp hex", hex(NOW), signed_ts=NOW)
    yield at("timestamp with a plus sign", f"+{NOW}", signed_ts=NOW)
    yield at("timestamp with an inner space", f"{str(NOW)[:4]} {str(NOW)[4:]}", signed_ts=NOW)
    yield at("timestamp with underscores", f"{NOW:_}", signed_ts=NOW)
    yield at("timestamp in milliseconds", str(NOW * 1000), signed_ts=NOW * 1000)
    yield at("timestamp of 12 nines", "9" * 12, signed_ts=10**12 - 1)
    yield at("timestamp of 400 digits", "9" * 400, signed_ts=NOW)
    yield at(
        "timestamp in full-width digits",
        "".join(chr(0xFF10 + int(c)) for c in str(NOW)),
        signed_ts=NOW,
    )
    yield at("timestamp as an ISO date", "2023-11-14T22:13:20Z", signed_ts=NOW)
    yield at("timestamp not the signed one", str(NOW + 1), signed_ts=NOW)
    yield at("timestamp 1e9 scientific", "1.7e9", signed_ts=NOW)
    # controls: inside the window on both sides, and surrounding whitespace (stripped)
    yield at(
        "timestamp tolerance - 1 s old is accepted",
        str(NOW - TOLERANCE_S + 1),
        signed_ts=NOW - TOLERANCE_S + 1,
        expect=OK,
        stores=1,
        duplicate=False,
    )
    yield at(
        "timestamp tolerance - 1 s ahead is accepted",
        str(NOW + TOLERANCE_S - 1),
        signed_ts=NOW + TOLERANCE_S - 1,
        expect=OK,
        stores=1,
        duplicate=False,
    )
    yield at(
        "timestamp with leading zeros is rejected or read as the same",
        f"000{NOW}",
        signed_ts=NOW,
        expect=frozenset({200, 401}),
        stores=-1,
    )


def _signature_cases(s: CorpusScheme) -> Iterator[Case]:
    header = s.signature_header
    base = legit(s, "base signature")
    msg_id = slug("base signature")
    good = s.signature(TEST_SECRET, msg_id, NOW, base.body)
    other = s.signature(OTHER_SECRET, msg_id, NOW, base.body)
    for name, value in s.mutations(good, other, NOW):
        yield unverified(base, name, (header, value), drop=(header,))
    msg_id = slug("signature over another body")
    body = dumps(envelope(msg_id))
    yield Case(
        "signature over another body", sig_headers(s, msg_id, body + b" "), body, REJECTED_401
    )
    if s.id_header and "{id}" in s.config.signed_content:
        yield Case(
            f"signature for another {s.id_header}",
            s.headers(msg_id, body, ts=NOW, secret=TEST_SECRET, signed_id="dlv_other"),
            body,
            REJECTED_401,
        )
    # controls: several values, one of them ours (rotation from the sender's side)
    for name, _ in s.controls(good, other, NOW):
        ctl = legit(s, name)
        ctl_id = slug(name)
        ours = s.signature(TEST_SECRET, ctl_id, NOW, ctl.body)
        theirs = s.signature(OTHER_SECRET, ctl_id, NOW, ctl.body)
        value = dict(s.controls(ours, theirs, NOW))[name]
        yield with_headers(ctl, ctl.name, (header, value), drop=(header,))


def _body_cases(s: CorpusScheme) -> Iterator[Case]:
    yield signed_bad_body(s, "body empty", b"")
    yield signed_bad_body(s, "body not JSON", b"hello, world")
    yield signed_bad_body(s, "body JSON array", b"[1, 2, 3]")
    yield signed_bad_body(s, "body JSON string", b'"customer.updated"')
    yield signed_bad_body(s, "body JSON null", b"null")
    yield signed_bad_body(s, "body JSON number", b"42")
    yield signed_bad_body(s, "body JSON true", b"true")
    yield signed_bad_body(s, "body truncated JSON", dumps(envelope("x"))[:-5])
    yield signed_bad_body(s, "body 10k levels of nested arrays", b"[" * 10_000 + b"]" * 10_000)
    msg_id = slug("body 2k levels of nesting inside data")
    nested = b'{"a":' * 2_000 + b"1" + b"}" * 2_000
    raw = dumps(envelope(msg_id, data={"id": 1})).replace(b'{"id": 1}', nested)
    yield replace(
        signed_bad_body(s, "body 2k levels of nesting inside data", raw, msg_id=msg_id),
        expect=frozenset({200, 400}),
        error_code=None,
        stores=-1,
    )
    yield signed_bad_body(s, "body invalid UTF-8", b'{"event": "\xff\xfe"}')
    yield signed_bad_body(s, "body overlong UTF-8 encoding", b'{"event": "\xc0\xaf"}')
    yield signed_bad_body(
        s,
        "body UTF-16 with BOM",
        json.dumps(envelope(slug("body UTF-16 with BOM"))).encode("utf-16"),
    )
    yield signed_bad_body(
        s, "body UTF-8 with BOM", b"\xef\xbb\xbf" + dumps(envelope(slug("body UTF-8 with BOM")))
    )
    yield signed_bad_body(s, "body NaN for the event", b'{"event": NaN}')
    yield signed_bad_body(s, "body with only whitespace", b" \n\t ")
    yield signed_bad_body(s, "body NUL bytes", b"\x00" * 64)
    msg_id = slug("body 5000-digit integer")
    raw = dumps(envelope(msg_id, data={"id": 1})).replace(b'"id": 1', b'"id": ' + b"9" * 5000)
    yield replace(
        signed_bad_body(s, "body 5000-digit integer", raw, msg_id=msg_id),
        expect=frozenset({200, 400}),
        error_code=None,
        stores=-1,
    )
    msg_id = slug("body huge float")
    raw = dumps(envelope(msg_id, data={"id": 1})).replace(b'"id": 1', b'"id": 1e999999')
    yield legit(s, "body huge float (infinity) in data", raw, msg_id=msg_id)
    msg_id = slug("body lone surrogate in data")
    raw = dumps(envelope(msg_id, data={"id": 1, "name": "x"})).replace(b'"x"', b'"\\ud800"')
    yield legit(s, "body lone surrogate escape in data", raw, msg_id=msg_id)
    msg_id = slug("body lone surrogate in selfcheck nonce")
    raw = dumps(envelope(msg_id, data={"id": 1, "billogetHooksSelfcheckNonce": "x"})).replace(
        b'"x"', b'"\\udfff"'
    )
    yield replace(
        legit(s, "body lone surrogate escape as the self-check nonce", raw, msg_id=msg_id),
        expect=frozenset({200, 400}),
        stores=-1,
        duplicate=None,
    )
    msg_id = slug("body duplicate keys")
    raw = dumps(envelope(msg_id))[:-1] + b', "event": "customer.created"}'
    yield legit(s, "body with duplicate keys (last wins)", raw, msg_id=msg_id)
    # size: MAX_BODY is the cap
    big = b"x" * (MAX_BODY + 1)
    msg_id = slug("size over cap")
    yield Case(
        "body over the cap with Content-Length",
        sig_headers(s, msg_id, big),
        big,
        frozenset({413}),
        error_code="payload_too_large",
    )
    yield Case(
        "body over the cap, Content-Length only declared",
        sig_headers(s, msg_id, big),
        b"",
        frozenset({413}),
        content_length=10 * 1024 * 1024,
        error_code="payload_too_large",
    )
    yield Case(
        "body over the cap, chunked",
        sig_headers(s, msg_id, big),
        big,
        frozenset({413}),
        chunked=True,
        error_code="payload_too_large",
    )
    # HTTP/1.1: no Content-Length and not chunked means an empty body; the rest is junk
    yield Case(
        "body without Content-Length or chunking",
        sig_headers(s, msg_id, big),
        big,
        frozenset({400, 401, 411, 413}),
        content_length=None,
        json_error=False,
    )
    yield Case(
        "body 1 MiB chunked",
        sig_headers(s, msg_id, b"y" * 1024 * 1024),
        b"y" * 1024 * 1024,
        frozenset({413}),
        chunked=True,
        error_code="payload_too_large",
    )
    msg_id = slug("body exactly at the cap")
    padded = envelope(msg_id, data={"id": 1, "pad": ""})
    pad = MAX_BODY - len(dumps(padded))
    padded["data"]["pad"] = "p" * pad
    yield legit(s, "body exactly at the cap", dumps(padded), msg_id=msg_id)
    yield legit(s, "body chunked under the cap", chunked=True)
    legit_short = legit(s, "body shorter than its Content-Length")
    yield replace(
        legit_short,
        expect=frozenset({400}),
        stores=0,
        duplicate=None,
        content_length=len(legit_short.body) + 100,
        json_error=False,
        half_close=True,
    )
    legit_long = legit(s, "body longer than its Content-Length")
    # aiohttp refuses the extra bytes after a Connection: close request (400, its parser)
    yield replace(
        legit_long,
        expect=frozenset({400, 401}),
        stores=0,
        duplicate=None,
        content_length=len(legit_long.body) - 10,
        json_error=False,
    )
    yield replace(
        legit(s, "Content-Length not a number"),
        expect=frozenset({400}),
        stores=0,
        duplicate=None,
        content_length=False,
        json_error=False,
        headers=(*legit(s, "Content-Length not a number").headers, ("Content-Length", "ten")),
    )
    dup_cl = legit(s, "two different Content-Length headers")
    yield replace(
        dup_cl,
        expect=frozenset({400}),
        stores=0,
        duplicate=None,
        json_error=False,
        headers=(*dup_cl.headers, ("Content-Length", str(len(dup_cl.body) + 1))),
    )
    # compression: what is verified is the body as decoded by the server
    msg_id = slug("gzip bomb")
    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))
    yield Case(
        "body gzip bomb (8 MiB inflated)",
        (*sig_headers(s, msg_id, bomb), ("Content-Encoding", "gzip")),
        bomb,
        frozenset({400, 413}),
        error_code=None,
    )
    msg_id = slug("deflate bomb")
    dbomb = zlib.compress(b"{" * (8 * 1024 * 1024))
    yield Case(
        "body deflate bomb (8 MiB inflated)",
        (*sig_headers(s, msg_id, dbomb), ("Content-Encoding", "deflate")),
        dbomb,
        frozenset({400, 413}),
        error_code=None,
    )
    msg_id = slug("gzip garbage")
    yield Case(
        "body claims gzip but is not",
        (*sig_headers(s, msg_id, b"not gzip"), ("Content-Encoding", "gzip")),
        b"not gzip",
        frozenset({400, 401}),
        json_error=False,
    )


def _content_type_cases(s: CorpusScheme) -> Iterator[Case]:
    for ctype in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/json; charset=utf-16",
        "application/octet-stream",
        "",
    ):
        base = legit(s, f"content-type {ctype or 'empty'!r} is ignored")
        yield with_headers(base, base.name, ("Content-Type", ctype), drop=("Content-Type",))
    base = legit(s, "content-type with a DEL character")
    yield replace(
        with_headers(base, base.name, ("Content-Type", "garbage/\x7f"), drop=("Content-Type",)),
        expect=frozenset({200, 400}),
        stores=-1,
        duplicate=None,
        json_error=False,
    )
    base = legit(s, "content-type absent is fine")
    yield with_headers(base, base.name, drop=("Content-Type",))


def _method_cases(s: CorpusScheme) -> Iterator[Case]:
    base = legit(s, "base method")
    for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"):
        yield replace(
            base,
            name=f"method {method} on the webhook path",
            method=method,
            expect=frozenset({405}),
            stores=0,
            duplicate=None,
            json_error=method != "HEAD",
            error_code="method_not_allowed",
        )
    yield replace(
        base,
        name="method FOO on the webhook path",
        method="FOO",
        expect=frozenset({400, 405}),
        stores=0,
        duplicate=None,
        json_error=False,
    )
    yield replace(
        base,
        name="method lower-case post",
        method="post",
        expect=frozenset({400, 405}),
        stores=0,
        duplicate=None,
        json_error=False,
    )


def _path_cases(s: CorpusScheme) -> Iterator[Case]:
    def at(path: str, name: str, expect: frozenset[int] = frozenset({404}), **kw: Any) -> Case:
        base = legit(s, name)
        if expect <= OK:
            return replace(base, path=path, **kw)
        params: dict[str, Any] = {"expect": expect, "stores": 0, "duplicate": None} | kw
        return replace(base, path=path, **params)

    yield at("/webhooks/billoget/", "path with a trailing slash")
    yield at("//webhooks/billoget", "path with a leading double slash")
    yield at("/webhooks//billoget", "path with an inner double slash")
    yield at("/webhooks/BILLOGET", "path in upper case")
    yield at("/webhooks/billoget/../../etc/passwd", "path traversal after the webhook path")
    yield at("/webhooks/billoget%2F..%2Fadmin", "path with encoded slashes")
    yield at("/webhooks/billoget%00", "path with an encoded NUL")
    yield at("/webhooks/billoget;x=1", "path with a matrix parameter")
    yield at("/" + "a" * 6000, "path of 6000 chars", frozenset({404, 414, 400}), json_error=False)
    yield at(
        "/" + "a" * 9000, "path over aiohttp's line limit", frozenset({400, 414}), json_error=False
    )
    yield at("*", "path asterisk form", frozenset({400, 404}), json_error=False)
    yield at(
        "http://evil.example/webhooks/billoget",
        "path absolute form to another host",
        frozenset({200, 400, 404}),
        stores=-1,
        json_error=False,
    )
    yield at(
        "/webhooks/%62illoget",
        "path percent-encoded letters (decoded: the same path)",
        frozenset({200, 404}),
        stores=-1,
    )
    yield at(
        "/webhooks/../webhooks/billoget",
        "path dot segments resolving to the webhook path",
        frozenset({200, 404}),
        stores=-1,
    )
    yield at("/webhooks/billoget?x=1&y=%00", "path with a query string", OK)


def _replay_cases(s: CorpusScheme) -> Iterator[Case]:
    first = legit(s, "replay original")
    yield replace(
        first,
        name="replay of a stored delivery within the tolerance",
        before=(first,),
        stores=0,
        duplicate=True,
    )
    # the same delivery re-signed at a later attempt (Billoget's retry): duplicate
    msg_id = slug("replay re-signed")
    body = dumps(envelope(msg_id))
    orig = Case(
        "replay re-signed original", sig_headers(s, msg_id, body, ts=NOW - 100), body, OK, stores=1
    )
    yield Case(
        "replay re-signed by a later attempt",
        sig_headers(s, msg_id, body),
        body,
        OK,
        stores=0,
        duplicate=True,
        before=(orig,),
    )
    # same id, other body, validly signed: first write wins, nothing new stored
    other_body = dumps(envelope(msg_id, data={"id": 43}))
    yield Case(
        "replay same id with another signed body",
        sig_headers(s, msg_id, other_body),
        other_body,
        OK,
        stores=0,
        duplicate=True,
        before=(orig,),
    )
    msg_id = slug("replay old")
    body = dumps(envelope(msg_id))
    stale = sig_headers(s, msg_id, body, ts=NOW - TOLERANCE_S - 60)
    orig2 = Case("replay old original", sig_headers(s, msg_id, body), body, OK, stores=1)
    if s.has_timestamp:
        yield Case(
            "replay of a captured delivery outside the tolerance",
            stale,
            body,
            REJECTED_401,
            before=(orig2,),
            error_code="invalid_signature",
        )
    else:  # no signed time: replay protection rests on the delivery id alone
        yield Case(
            "replay of a captured delivery much later is a duplicate",
            stale,
            body,
            OK,
            stores=0,
            duplicate=True,
            before=(orig2,),
        )
    msg_id = slug("replay unseen old")
    body = dumps(envelope(msg_id))
    if s.has_timestamp:
        yield Case(
            "replay of an unseen delivery captured long ago",
            sig_headers(s, msg_id, body, ts=NOW - 3600),
            body,
            REJECTED_401,
        )
    msg_id = slug("replay rotated")
    body = dumps(envelope(msg_id))
    yield Case(
        "replay signed only with a rotated-out secret",
        sig_headers(s, msg_id, body, secret=OTHER_SECRET),
        body,
        REJECTED_401,
        error_code="invalid_signature",
    )


def _envelope_cases(s: CorpusScheme) -> Iterator[Case]:
    def without(name: str, key: str) -> Case:
        msg_id = slug(name)
        env = envelope(msg_id)
        del env[key]
        return signed_bad_body(s, name, dumps(env), msg_id=msg_id)

    yield without("envelope without event", "event")
    yield without("envelope without timestamp", "timestamp")
    yield without("envelope without data", "data")
    yield without("envelope without metadata", "metadata")
    yield bad_envelope(s, "envelope event empty", event="")
    yield bad_envelope(s, "envelope event a number", event=7)
    yield bad_envelope(s, "envelope event null", event=None)
    yield bad_envelope(s, "envelope event of 129 chars", event="e" * 129)
    yield bad_envelope(s, "envelope event a lone surrogate", event="\ud800")
    yield bad_envelope(s, "envelope timestamp invalid", timestamp="the day after")
    yield bad_envelope(s, "envelope timestamp empty", timestamp="")
    yield bad_envelope(s, "envelope timestamp a list", timestamp=[2024])
    yield bad_envelope(s, "envelope data a list", data=[42])
    yield bad_envelope(s, "envelope data null", data=None)
    yield bad_envelope(s, "envelope data a string", data="42")
    yield bad_envelope(s, "envelope metadata a string", metadata="x")
    msg_id = slug("metadata without delivery_id")
    yield signed_bad_body(
        s,
        "envelope metadata without delivery_id",
        dumps(envelope(msg_id, metadata={"source": "billoget"})),
        msg_id=msg_id,
    )
    msg_id = slug("metadata delivery_id number")
    yield replace(
        signed_bad_body(
            s,
            "envelope metadata delivery_id a number",
            dumps(envelope(msg_id, metadata={"delivery_id": 5})),
            msg_id=msg_id,
        ),
        error_code=None,
    )
    msg_id = slug("envelope extra fields")
    yield legit(
        s,
        "envelope with extra fields is fine",
        dumps(envelope(msg_id, extra={"a": 1}, api_version="2")),
        msg_id=msg_id,
    )
    msg_id = slug("envelope unknown event")
    yield legit(
        s,
        "envelope with an unknown event type is stored",
        dumps(envelope(msg_id, event="invoice.paid")),
        msg_id=msg_id,
    )
    msg_id = slug("envelope event no dot")
    yield legit(
        s, "envelope event without a dot", dumps(envelope(msg_id, event="ping")), msg_id=msg_id
    )
    msg_id = slug("envelope timestamp year 1 with offset")
    yield legit(
        s,
        "envelope timestamp that cannot move to UTC",
        dumps(envelope(msg_id, timestamp="0001-01-01T00:00:00+14:00")),
        msg_id=msg_id,
    )
    msg_id = slug("envelope timestamp naive")
    yield legit(
        s,
        "envelope timestamp without a zone",
        dumps(envelope(msg_id, timestamp="2024-05-01T10:00:00")),
        msg_id=msg_id,
    )
    msg_id = slug("envelope data id missing")
    yield legit(
        s, "envelope data without an id is stored", dumps(envelope(msg_id, data={})), msg_id=msg_id
    )


def build_corpus(s: CorpusScheme = STANDARD) -> list[Case]:
    cases = [
        *_header_cases(s),
        *_id_cases(s),
        *_timestamp_cases(s),
        *_signature_cases(s),
        *_body_cases(s),
        *_content_type_cases(s),
        *_method_cases(s),
        *_path_cases(s),
        *_replay_cases(s),
        *_envelope_cases(s),
    ]
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"corpus names must be unique: {duplicates}"
    return cases


CORPUS: list[Case] = build_corpus()
CORPUS_BY_NAME: dict[str, Case] = {c.name: c for c in CORPUS}
# every scheme's corpus: (scheme, case) pairs, the scheme's name in each test id
CORPORA: list[tuple[CorpusScheme, Case]] = [(s, c) for s in SCHEMES for c in build_corpus(s)]
