"""Property-based fuzzing (hypothesis) of header parsing, verification and the envelope.

Bounded and derandomized for CI: a fixed number of examples per property, no deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from billoget_hooks.procs import free_port
from core.errors import ClientError, InvalidEnvelopeError, VerificationError
from core.events import Envelope, parse_envelope
from core.settings import Settings
from core.signing import WebhookSecret, sign, verify
from core.store.sqlite.store import SQLiteEventStore
from receiver.app import create_app
from receiver.ingest import Ingestor
from tests.fixtures.infra import OTHER_SECRET, TEST_SECRET

NOW = 1_700_000_000
SECRETS = [WebhookSecret.parse(TEST_SECRET)]
UNIT_EXAMPLES = 300
RECEIVER_EXAMPLES = 100
FUZZ = settings(
    max_examples=UNIT_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

header_text = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
    st.from_regex(r"\A(v[0-9],[A-Za-z0-9+/=]{0,60} ?){0,4}\Z"),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(st.text(max_size=140), json_values),
        "timestamp": st.one_of(
            st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=40), json_values
        ),
        "data": st.one_of(
            st.dictionaries(st.text(max_size=10), json_values, max_size=4), json_values
        ),
        "metadata": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "delivery_id": st.one_of(st.text(max_size=300), json_values),
                    "source": json_values,
                    "version": json_values,
                },
            ),
            json_values,
        ),
        "extra": json_values,
    },
)

# the envelope's shape with arbitrary contents: most of these are accepted
valid_ish = st.fixed_dictionaries(
    {
        "event": st.text(min_size=1, max_size=128),
        "timestamp": st.datetimes(timezones=st.none() | st.timezones()).map(
            lambda d: d.isoformat()
        ),
        "data": st.dictionaries(st.text(max_size=30), json_values, max_size=5),
        "metadata": st.fixed_dictionaries(
            {"delivery_id": st.just("x")}, optional={"source": json_values}
        ),
    },
    optional={"extra": json_values},
)
any_json = st.one_of(json_values, envelope_like, valid_ish)


@FUZZ
@given(
    msg_id=header_text, timestamp=header_text, signature=header_text, body=st.binary(max_size=200)
)
def test_verify_raises_only_verification_error_for_any_header_values(
    msg_id: str | None, timestamp: str | None, signature: str | None, body: bytes
) -> None:
    try:
        verify(
            SECRETS,
            msg_id=msg_id,
            timestamp=timestamp,
            signature=signature,
            body=body,
            now=lambda: float(NOW),
        )
    except VerificationError:
        return
    # accepted: then it really was signed with our secret (practically impossible by chance)
    assert signature is not None and msg_id is not None and timestamp is not None
    assert sign(SECRETS, msg_id, int(timestamp), body) in signature


@FUZZ
@given(
    msg_id=st.from_regex(r"\A[\x21-\x7e]{1,40}\Z"),
    skew=st.integers(min_value=-(10**6), max_value=10**6),
    body=st.binary(max_size=200),
    tamper=st.sampled_from(["none", "body", "id", "secret", "timestamp"]),
)
def test_verify_accepts_exactly_the_untampered_deliveries_inside_the_tolerance(
    msg_id: str, skew: int, body: bytes, tamper: str
) -> None:
    ts = NOW + skew
    secret = OTHER_SECRET if tamper == "secret" else TEST_SECRET
    signature = sign(secret, msg_id, ts, body)
    sent_body = body + b"x" if tamper == "body" else body
    sent_id = msg_id + "x" if tamper == "id" else msg_id
    sent_ts = str(ts + 1 if tamper == "timestamp" else ts)
    expect_ok = tamper == "none" and abs(skew) <= 300 and ts >= 0
    try:
        verify(
            SECRETS,
            msg_id=sent_id,
            timestamp=sent_ts,
            signature=signature,
            body=sent_body,
            now=lambda: float(NOW),
        )
    except VerificationError:
        assert not expect_ok
    else:
        assert expect_ok


@FUZZ
@given(body=st.binary(max_size=400))
def test_parse_envelope_raises_only_invalid_envelope_error_for_any_bytes(body: bytes) -> None:
    with contextlib.suppress(InvalidEnvelopeError):
        assert isinstance(parse_envelope(body), Envelope)


@FUZZ
@given(value=any_json)
def test_parse_envelope_raises_only_invalid_envelope_error_for_any_json(value: Any) -> None:
    try:
        envelope = parse_envelope(json.dumps(value).encode())
    except InvalidEnvelopeError:
        return
    # what was accepted can be stored: every text the store keeps is encodable
    envelope.event.encode()
    (envelope.selfcheck_nonce or "").encode()


@FUZZ
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "x-other"]),
            st.text(max_size=80),
        ),
        max_size=6,
    ),
    body=st.binary(max_size=200),
)
def test_ingest_raises_only_client_errors_for_any_headers(
    headers: list[tuple[str, str]], body: bytes
) -> None:
    ingestor = Ingestor(SECRETS, clock=lambda: float(NOW))
    try:
        ingestor.ingest(CIMultiDictProxy(CIMultiDict(headers)), body)
    except ClientError as exc:
        assert 400 <= exc.status < 500


# -- the whole receiver, signed arbitrary JSON ------------------------------------------------


class _Problems(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(f"{record.name}: {record.getMessage()[:200]}")


class ThreadedReceiver:
    """The real receiver app on a loopback port, served from a thread of its own (so that a
    synchronous hypothesis test can post to it)."""

    def __init__(self, settings_: Settings) -> None:
        self.settings = settings_
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=20)

    async def _start(self) -> None:
        self._runner = web.AppRunner(create_app(self.settings, clock=lambda: float(NOW)))
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", "/webhooks/billoget", body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def fuzz_receiver(
    tmp_path_factory: pytest.TempPathFactory, receiver_redis_server: str
) -> Iterator[tuple[ThreadedReceiver, SQLiteEventStore, _Problems]]:
    db: Path = tmp_path_factory.mktemp("fuzz") / "events.db"
    settings_ = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{db}",
        redis_url=receiver_redis_server.rsplit("/", 1)[0] + "/3",
        billoget_webhook_secret=TEST_SECRET,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
    )
    problems = _Problems()
    logging.getLogger().addHandler(problems)
    receiver = ThreadedReceiver(settings_)
    receiver.start()
    store = SQLiteEventStore(db)
    try:
        yield receiver, store, problems
    finally:
        receiver.stop()
        store.close()
        logging.getLogger().removeHandler(problems)


_counter = iter(range(10**9))
OUTCOMES: dict[int, int] = {}  # status -> examples (printed by the test below)


@settings(
    max_examples=RECEIVER_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    value=st.one_of(valid_ish, any_json),
    with_matching_id=st.sampled_from([True, True, True, False]),
)
def test_signed_arbitrary_json_through_the_receiver_is_never_a_5xx(
    fuzz_receiver: tuple[ThreadedReceiver, SQLiteEventStore, _Problems],
    value: Any,
    with_matching_id: bool,
) -> None:
    receiver, store, problems = fuzz_receiver
    msg_id = f"dlv_fuzz_{next(_counter)}"
    if with_matching_id and isinstance(value, dict):
        metadata = value.get("metadata")
        if isinstance(metadata, dict):
            metadata["delivery_id"] = msg_id
    body = json.dumps(value).encode()
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(NOW),
        "webhook-signature": sign(TEST_SECRET, msg_id, NOW, body),
        "Content-Type": "application/json",
    }
    status, answer = receiver.post(body, headers)
    OUTCOMES[status] = OUTCOMES.get(status, 0) + 1
    assert status < 500, answer[:300]
    assert status in (200, 400), answer[:300]
    stored = store.get(msg_id)
    if status == 200:
        assert stored is not None and stored.body == body
    else:
        assert stored is None
        error = json.loads(answer)
        assert error["error"] in ("invalid_payload", "delivery_id_mismatch")
    assert problems.records == []


def test_the_receiver_fuzzing_reached_both_acceptance_and_rejection() -> None:
    print(f"FUZZ receiver outcomes: {OUTCOMES}")
    if OUTCOMES:  # (empty when run alone with -k)
        assert OUTCOMES.get(200, 0) >= 10 and OUTCOMES.get(400, 0) >= 10
