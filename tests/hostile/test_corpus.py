"""Every request of the hostile corpus gets a 4xx (or 200 for the controls), never a 5xx, never
an exception in the log, and never a stored row unless it was verified and accepted."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from aiohttp.http_exceptions import BadHttpMessage

from core.settings import Settings
from core.store.sqlite.store import SQLiteEventStore
from receiver.keys import REFUSED_KEY
from tests.fixtures.receiver import MakeReceiver, ReceiverClient
from tests.hostile.corpus import CORPORA, CORPUS, MAX_BODY, NOW, Case
from tests.hostile.rawhttp import RawResponse, build_request, send_raw
from tests.hostile.schemes import CorpusScheme

INGEST_REFUSALS = ("invalid_signature", "invalid_payload", "delivery_id_mismatch")


def test_the_corpus_has_at_least_a_hundred_named_cases_for_every_scheme() -> None:
    assert len(CORPUS) >= 100
    for scheme in {s.name for s, _ in CORPORA}:
        cases = [c for s, c in CORPORA if s.name == scheme]
        assert sum(1 for c in cases if not c.accepted) >= 100, scheme


async def send_case(client: ReceiverClient, case: Case) -> RawResponse | None:
    """The answer; None when a sender that hung up early got none (``half_close`` cases)."""
    host, port = "127.0.0.1", client.server.port
    assert port is not None
    request = build_request(
        case.method,
        case.path,
        list(case.headers),
        case.body,
        host=f"{host}:{port}",
        content_length=case.content_length,
        chunked=case.chunked,
    )
    try:
        return await send_raw(
            host, port, request, method=case.method, half_close=case.half_close, timeout_s=5
        )
    except (ConnectionError, TimeoutError):
        if case.half_close:
            return None
        raise


def total_rows(store: SQLiteEventStore) -> int:
    return sum(store.counts().values())


def is_aiohttp_parser_rejection(record: logging.LogRecord) -> bool:
    """aiohttp's own ERROR record for a request its HTTP parser refused (answered 400 before
    our code runs). Judged by its own test below, not once per corpus case."""
    exc = record.exc_info[1] if record.exc_info else None
    return record.name == "aiohttp.server" and isinstance(exc, BadHttpMessage)


def problems_in_log(records: list[logging.LogRecord]) -> list[str]:
    """Records that are errors or carry an exception (from any logger)."""
    return [
        f"{r.name} {r.levelname}: {r.getMessage()[:200]} {r.exc_info[1] if r.exc_info else ''!r}"
        for r in records
        if (r.levelno >= logging.ERROR or r.exc_info) and not is_aiohttp_parser_rejection(r)
    ]


@pytest.fixture
def corpus_settings(make_settings: Callable[..., Settings], receiver_redis_url: str) -> Settings:
    return make_settings(redis_url=receiver_redis_url, billoget_max_body_bytes=MAX_BODY)


@pytest.mark.parametrize(
    ("scheme", "case"), CORPORA, ids=[f"{s.name}: {c.name}" for s, c in CORPORA]
)
async def test_a_hostile_request_is_answered_as_expected_and_stores_nothing_unverified(
    scheme: CorpusScheme,
    case: Case,
    make_receiver: MakeReceiver,
    store: SQLiteEventStore,
    make_settings: Callable[..., Settings],
    receiver_redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        redis_url=receiver_redis_url, billoget_max_body_bytes=MAX_BODY, **scheme.settings
    )
    client = await make_receiver(settings=settings, store=store, clock=lambda: float(NOW))
    for earlier in case.before:
        sent = await send_case(client, earlier)
        assert sent is not None and sent.status == 200, earlier.name
    rows_before = total_rows(store)

    response = await send_case(client, case)
    if response is None:  # the sender hung up before its body was complete: no answer due
        assert total_rows(store) == rows_before
        assert problems_in_log(caplog.records) == []
        return

    assert response.status < 500, f"{case.name}: {response.status} {response.body[:300]!r}"
    assert response.status in case.expect, f"{case.name}: {response.status} {response.body!r}"
    added = total_rows(store) - rows_before
    if response.status == 200:
        answer = response.json()
        assert answer["received"] is True
        if case.duplicate is not None:
            assert answer["duplicate"] is case.duplicate
        assert added == (0 if answer["duplicate"] else 1)
        assert store.get(answer["delivery_id"]) is not None
    else:
        assert added == 0, f"{case.name}: a rejected request stored {added} row(s)"
        if case.json_error and case.method != "HEAD":
            error = response.json()
            assert isinstance(error["error"], str) and isinstance(error["message"], str)
            if case.error_code is not None:
                assert error["error"] == case.error_code
    if case.stores >= 0:
        assert added == case.stores
    assert problems_in_log(caplog.records) == []
    if response.status != 200 and case.json_error and case.method != "HEAD":
        code = response.json()["error"]
        if code in INGEST_REFUSALS:  # kept in memory for ``diagnose --signatures``
            kept = client.app[REFUSED_KEY].newest_first()
            assert kept and kept[0].code == code and kept[0].body == case.body[: len(kept[0].body)]


async def test_a_malformed_http_request_is_not_logged_as_an_error_with_a_traceback(
    make_receiver: MakeReceiver,
    store: SQLiteEventStore,
    corpus_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anyone on the internet can send broken HTTP: that must not flood the log with ERROR
    tracebacks (aiohttp logs its parser's 400s with ``logger.exception`` by default)."""
    caplog.set_level(logging.DEBUG)
    client = await make_receiver(settings=corpus_settings, store=store, clock=lambda: float(NOW))
    port = client.server.port
    assert port is not None
    raw = b"POST /webhooks/billoget HTTP/1.1\r\nHost: x\r\nwebhook-id: a\x00b\r\n\r\n"
    response = await send_raw("127.0.0.1", port, raw, method="POST")
    assert response.status == 400
    noisy = [
        f"{r.name} {r.levelname}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
    assert noisy == []
