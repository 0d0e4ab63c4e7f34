"""Whatever a sender gets wrong is a 4xx in Billoget's error style, and nothing is stored."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from multidict import CIMultiDict

from core.signing import sign
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET
from tests.fixtures.receiver import WEBHOOK_PATH, MakeReceiver, envelope

NOW = 1_700_000_000
ID = "dlv_hostile_1"
BODY = envelope(ID)


def _sig(body: bytes = BODY, *, msg_id: str = ID, ts: int = NOW, secret: str = TEST_SECRET) -> str:
    return sign(secret, msg_id, ts, body)


@dataclass(frozen=True)
class Case:
    body: bytes = BODY
    headers: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("webhook-id", ID),
            ("webhook-timestamp", str(NOW)),
            ("webhook-signature", _sig()),
        ]
    )
    status: int = 401
    code: str = "invalid_signature"


def _without(name: str) -> list[tuple[str, str]]:
    return [h for h in Case().headers if h[0] != name]


def _with(name: str, value: str) -> list[tuple[str, str]]:
    return [*_without(name), (name, value)]


def _doubled(name: str, value: str) -> list[tuple[str, str]]:
    return [*Case().headers, (name, value)]


def _signed_body(body: bytes, *, msg_id: str = ID) -> Case:
    """A correctly signed delivery whose body is not acceptable: 400."""
    headers = [
        ("webhook-id", msg_id),
        ("webhook-timestamp", str(NOW)),
        ("webhook-signature", _sig(body, msg_id=msg_id)),
    ]
    return Case(body=body, headers=headers, status=400, code="invalid_payload")


def _signed_at(header: str, *, signed_ts: int) -> Case:
    """``webhook-timestamp: header`` with a signature computed for ``signed_ts``."""
    return Case(
        headers=[
            ("webhook-id", ID),
            ("webhook-timestamp", header),
            ("webhook-signature", _sig(ts=signed_ts)),
        ]
    )


def _mismatched_id() -> Case:
    body = envelope("dlv_other")
    case = _signed_body(body)
    return Case(body=body, headers=case.headers, status=400, code="delivery_id_mismatch")


HOSTILE: dict[str, Callable[[], Case]] = {
    "no headers at all": lambda: Case(headers=[]),
    "missing webhook-id": lambda: Case(headers=_without("webhook-id")),
    "missing webhook-timestamp": lambda: Case(headers=_without("webhook-timestamp")),
    "missing webhook-signature": lambda: Case(headers=_without("webhook-signature")),
    "empty webhook-signature": lambda: Case(headers=_with("webhook-signature", "")),
    "duplicate webhook-id": lambda: Case(headers=_doubled("webhook-id", "dlv_evil")),
    "duplicate webhook-timestamp": lambda: Case(headers=_doubled("webhook-timestamp", str(NOW))),
    "duplicate webhook-signature": lambda: Case(headers=_doubled("webhook-signature", _sig())),
    "garbage signature": lambda: Case(headers=_with("webhook-signature", "not-a-signature")),
    "v1 with bad base64": lambda: Case(headers=_with("webhook-signature", "v1,@@@@")),
    "signature of the wrong length": lambda: Case(headers=_with("webhook-signature", "v1,AAAA")),
    "only an unknown scheme": lambda: Case(
        headers=_with("webhook-signature", _sig().replace("v1,", "v2,"))
    ),
    "signed with another secret": lambda: Case(
        headers=_with("webhook-signature", _sig(secret=OTHER_SECRET))
    ),
    "over-long signature header": lambda: Case(
        headers=_with("webhook-signature", " ".join([_sig(secret=OTHER_SECRET)] * 100))
    ),
    "over-long body with Content-Length": lambda: Case(
        body=b"x" * (2 * 1024 * 1024), status=413, code="payload_too_large"
    ),
    "stale timestamp": lambda: _signed_at(str(NOW - 301), signed_ts=NOW - 301),
    "future timestamp": lambda: _signed_at(str(NOW + 301), signed_ts=NOW + 301),
    "float timestamp": lambda: _signed_at(f"{NOW}.5", signed_ts=NOW),
    "negative timestamp": lambda: _signed_at(str(-NOW), signed_ts=-NOW),
    "millisecond timestamp": lambda: _signed_at(str(NOW * 1000), signed_ts=NOW * 1000),
    "timestamp not the signed one": lambda: _signed_at(str(NOW + 1), signed_ts=NOW),
    "word for a timestamp": lambda: Case(headers=_with("webhook-timestamp", "yesterday")),
    "tampered body": lambda: Case(body=BODY.replace(b"42", b"43")),
    "signature for another id": lambda: Case(
        headers=_with("webhook-signature", _sig(msg_id="dlv_other"))
    ),
    "webhook-id with a space": lambda: Case(headers=_with("webhook-id", "dlv hostile")),
    "webhook-id too long": lambda: Case(headers=_with("webhook-id", "d" * 300)),
    "unsigned empty body": lambda: Case(body=b""),
    "signed empty body": lambda: _signed_body(b""),
    "signed non-UTF-8 bytes": lambda: _signed_body(b"\xff\xfe\x00garbage\x80"),
    "signed non-JSON text": lambda: _signed_body(b"hello, world"),
    "signed JSON array": lambda: _signed_body(b"[1, 2, 3]"),
    "signed JSON string": lambda: _signed_body(b'"budget.created"'),
    "signed deeply nested JSON": lambda: _signed_body(b"[" * 50_000 + b"]" * 50_000),
    "signed NaN where the event goes": lambda: _signed_body(
        BODY.replace(b'"budget.created"', b"NaN")
    ),
    "signed envelope without metadata": lambda: _signed_body(
        json.dumps(
            {"event": "budget.created", "timestamp": "2024-05-01T10:00:00Z", "data": {}}
        ).encode()
    ),
    "signed envelope with data a list": lambda: _signed_body(BODY.replace(b'{"id": 42}', b"[42]")),
    "signed envelope with a bad timestamp": lambda: _signed_body(
        BODY.replace(b"2024-05-01T10:00:00Z", b"the day after")
    ),
    "wrong delivery id in metadata": _mismatched_id,
}


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_input_is_a_4xx_in_billoget_style_and_stores_nothing(
    name: str, make_receiver: MakeReceiver, store: SQLiteEventStore
) -> None:
    case = HOSTILE[name]()
    client = await make_receiver(store=store, clock=lambda: float(NOW))
    headers = CIMultiDict(case.headers)
    async with client.post(WEBHOOK_PATH, data=io.BytesIO(case.body), headers=headers) as resp:
        assert resp.status == case.status
        body = await resp.json()
    assert body["error"] == case.code
    assert set(body) == {"error", "message"} and isinstance(body["message"], str)
    assert sum(store.counts().values()) == 0
