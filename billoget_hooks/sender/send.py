"""Build and send signed Billoget webhooks to a receiver (``scripts/send_test_webhook``).

Each send can be made deliberately wrong (stale or future timestamp, tampered body, no
signature) or repeated with the same delivery id, to watch the receiver refuse or dedupe it.
Imports only ``core``: the tool must work against any receiver, ours or not.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from core.samples import envelope_bytes, new_delivery_id
from core.signing import DEFAULTS, SchemeConfig, WebhookSecret, signing_headers

DEFAULT_URL = "http://127.0.0.1:8080/webhooks/billoget"
DEFAULT_SKEW_S = 3600  # how far --stale/--future move the timestamp: well past any tolerance
DEFAULT_TIMEOUT_S = 10.0
USER_AGENT = "billoget-hooks send_test_webhook"
REFUSED_STATUS = 401


@dataclass(frozen=True, slots=True)
class Fault:
    """What to get wrong on purpose."""

    stale: bool = False
    future: bool = False
    tamper: bool = False
    no_signature: bool = False

    @property
    def any(self) -> bool:
        return self.stale or self.future or self.tamper or self.no_signature


@dataclass(frozen=True, slots=True)
class Prepared:
    delivery_id: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Answer:
    status: int | None
    text: str
    latency_ms: float
    error: str | None = None


@dataclass(slots=True)
class Summary:
    answers: list[Answer] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def status_counts(self) -> dict[str, int]:
        return dict(Counter(str(a.status) if a.status else "no answer" for a in self.answers))

    def percentile_ms(self, pct: float) -> float:
        values = sorted(a.latency_ms for a in self.answers if a.status is not None)
        if not values:
            return 0.0
        rank = max(0, min(len(values) - 1, round(pct / 100 * len(values) + 0.5) - 1))
        return values[rank]

    @property
    def rate_per_s(self) -> float:
        return len(self.answers) / self.elapsed_s if self.elapsed_s > 0 else 0.0


def prepare(
    *,
    secrets: list[WebhookSecret],
    event: str,
    data: dict[str, Any],
    fault: Fault = Fault(),
    delivery_id: str | None = None,
    now: float | None = None,
    skew_s: int = DEFAULT_SKEW_S,
    scheme: SchemeConfig = DEFAULTS["standard-webhooks"],
) -> Prepared:
    """Sign an envelope for ``event`` as ``scheme`` says (``secrets`` already in its secret
    encoding); apply ``fault`` afterwards, as an attacker would."""
    delivery_id = delivery_id or new_delivery_id()
    body = envelope_bytes(event, data, delivery_id=delivery_id)
    moment = int(time.time() if now is None else now)
    if fault.stale:
        moment -= skew_s
    if fault.future:
        moment += skew_s
    headers = signing_headers(scheme, secrets, delivery_id, body, timestamp=moment, decoded=False)
    headers["content-type"] = "application/json"
    headers["user-agent"] = USER_AGENT
    if fault.no_signature:
        del headers[scheme.signature_header]
    if fault.tamper:
        envelope = json.loads(body)
        envelope["data"]["tampered"] = True
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    return Prepared(delivery_id, headers, body)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    prepared: Prepared,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Answer:
    started = time.perf_counter()
    try:
        async with session.post(
            url,
            data=prepared.body,
            headers=prepared.headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            text = await response.text(errors="replace")
            return Answer(response.status, text, (time.perf_counter() - started) * 1000)
    except (aiohttp.ClientError, TimeoutError) as exc:
        message = str(exc) or type(exc).__name__
        return Answer(None, "", (time.perf_counter() - started) * 1000, error=message)


def is_expected(answer: Answer, fault: Fault) -> bool:
    """A deliberately broken delivery must be refused (401); a good one accepted (2xx)."""
    if answer.status is None:
        return False
    if fault.any:
        return answer.status == REFUSED_STATUS
    return 200 <= answer.status < 300


async def send_many(
    *,
    url: str,
    secrets: list[WebhookSecret],
    event: str,
    data: dict[str, Any],
    fault: Fault = Fault(),
    count: int = 1,
    concurrency: int = 1,
    duplicate: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    session: aiohttp.ClientSession | None = None,
    scheme: SchemeConfig = DEFAULTS["standard-webhooks"],
) -> tuple[list[Prepared], Summary]:
    """Send ``count`` deliveries (each twice with ``duplicate``) with ``concurrency`` in flight."""
    prepared = [
        prepare(secrets=secrets, event=event, data=data, fault=fault, scheme=scheme)
        for _ in range(count)
    ]
    queue: asyncio.Queue[Prepared] = asyncio.Queue()
    for item in prepared:
        queue.put_nowait(item)
    summary = Summary()
    own = session is None
    session = session or aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(1, concurrency))
    )

    async def worker() -> None:
        while not queue.empty():
            item = queue.get_nowait()
            summary.answers.append(await post(session, url, item, timeout_s=timeout_s))
            if duplicate:  # the same id and body again: the receiver must not store it twice
                summary.answers.append(await post(session, url, item, timeout_s=timeout_s))

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, count)))))
    finally:
        summary.elapsed_s = time.perf_counter() - started
        if own:
            await session.close()
    return prepared, summary
