"""End-to-end benchmark of the workers (a benchmark, not a timed test).

In one run, on one Redis database (emptied; default db 14 of the local Redis):

1. Dramatiq's own drain rate: N messages for a no-op actor, drained by a worker with the same
   thread count as ours; then at once
2. end to end, no API: N signed POSTs to a receiver (``billoget-hooks serve``) for an event type
   no handler needs the API for, until N rows are ``processed`` (a ``billoget-hooks worker``);
3. end to end, a burst of N ``customer.updated`` events over M entities of an emulator
   (``billoget-hooks emulator``) with the emulator's full payloads; API calls and 429s from the
   emulator's request log;
4. the API budget bursts (issue 13), over a catalogue of ``--catalogue`` customers and as many
   products created in the emulator: ``customer.updated`` with full payloads, one per customer
   (target: 0 API calls), then ``product.updated`` with thin payloads (``{id, updatedAt}``),
   one per product, which the fetch planner must fetch (target: one list scan, at most 120
   calls for 10,000, no 429).

1 and 2 alternate for ``--rounds`` rounds (``--ratio-only`` stops there: ``scripts/bench_ingest``
runs it for its fifth figure) (the machine is shared: each ratio compares
neighbours in time) and the median is reported. Prints events/s, the ratio to the no-op drain,
API calls and 429s. Targets: ratio >= 0.5, API
calls ~ M for the burst, no 429.

Fair by construction: the no-op drain runs one worker process (this one) with the same thread
count, the same ``worker_timeout`` and prefetch as ``billoget-hooks worker``; every phase is
warmed up first (``--warmup`` events through the same path, not timed); the end-to-end rates
run from the first POST to the last ``processed`` row. Each phase is bounded by ``--timeout-s``
and the whole run by ``--budget-s`` (10 minutes); the API budget bursts by what is left of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from billoget_hooks.procs import Proc, cli_argv, free_port, port_open, wait_until
from emulator.client import EmulatorAdmin

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32
WARMUP_PREFIX = "warmup_"
POLL_S = 0.02


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str) -> float:
    """:func:`~billoget_hooks.procs.wait_until` with a short poll; exit with one line if not."""
    try:
        return wait_until(condition, timeout_s=timeout_s, interval_s=POLL_S, what=what)
    except TimeoutError as exc:
        raise SystemExit(f"bench_e2e: {exc}") from None


# -- 1. Dramatiq's no-op drain -------------------------------------------------------------


def noop_drain(
    redis_url: str, *, count: int, warmup: int, threads: int, timeout_s: float
) -> tuple[float, float]:
    """Messages already waiting (the worker paused while they are sent), drained from resume:
    (messages/s, CPU seconds of this process per message while draining)."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    from workers.commands import WORKER_TIMEOUT_MS

    broker = RedisBroker(url=redis_url)
    done = 0
    lock = threading.Lock()

    def noop() -> None:
        nonlocal done
        with lock:
            done += 1

    actor: Any = dramatiq.Actor(
        noop,
        broker=broker,
        actor_name="noop",
        queue_name="bench-noop",
        priority=0,
        options={"max_retries": 0},
    )
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS)
    worker.start()
    try:
        for _ in range(warmup):
            actor.send()
        wait_for(lambda: done >= warmup, timeout_s=timeout_s, what="the no-op warm-up")
        worker.pause()
        for _ in range(count):
            actor.send()
        cpu = time.process_time()
        worker.resume()
        elapsed = wait_for(
            lambda: done >= warmup + count, timeout_s=timeout_s, what="the no-op drain"
        )
        cpu = time.process_time() - cpu
    finally:
        worker.stop()
        broker.close()
    return count / max(elapsed, 1e-9), cpu / count


# -- processes -------------------------------------------------------------------------------


class Procs:
    """Our processes of one run (:class:`~billoget_hooks.procs.Proc`), logs in ``log_dir``."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: list[Proc] = []

    def start(self, name: str, *args: str, extra: dict[str, str] | None = None) -> None:
        env = {**self.env, **(extra or {})}
        proc = Proc(name, cli_argv(*args), self.log_dir / f"{name}.log", env, cwd=ROOT)
        self.running.append(proc.start())

    def stop(self) -> None:
        for proc in reversed(self.running):
            proc.stop(timeout_s=15)

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds (user + system) each running process has used so far (Linux /proc)."""
        return {proc.name: cpu_seconds(proc.pid) for proc in self.running if proc.alive}


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- posting signed webhooks ------------------------------------------------------------------


def envelope(event: str, data: dict[str, Any], delivery_id: str) -> bytes:
    from core.samples import envelope_bytes

    return envelope_bytes(event, data, delivery_id=delivery_id)


async def post_all(url: str, bodies: list[tuple[str, bytes]]) -> None:
    from core.signing import WebhookSecret, sign_headers

    secret = [WebhookSecret.parse(SECRET)]
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            delivery_id, body = queue.get_nowait()
            headers = sign_headers(secret, delivery_id, body)
            headers["Content-Type"] = "application/json"
            async with session.post(url, data=body, headers=headers) as response:
                if response.status >= 300:
                    raise SystemExit(f"receiver answered {response.status} to {delivery_id}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(sender(session) for _ in range(CONCURRENCY)))


def count_done(db: Path, prefix: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM events WHERE delivery_id LIKE ? "
                "AND status IN ('processed', 'dead')",
                (prefix + "%",),
            ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


def run_phase(
    receiver_url: str, db: Path, bodies: list[tuple[str, bytes]], prefix: str, *, timeout_s: float
) -> float:
    """Events/s from the first POST to the last of ``bodies`` processed (or dead)."""
    return timed_phase(receiver_url, db, bodies, prefix, timeout_s=timeout_s)[0]


def timed_phase(
    receiver_url: str, db: Path, bodies: list[tuple[str, bytes]], prefix: str, *, timeout_s: float
) -> tuple[float, float]:
    """(events/s end to end, events/s of the POSTs alone: the first to the last 2xx). The
    second bounds the first: the workers cannot finish events faster than they are received."""
    start = time.monotonic()
    asyncio.run(post_all(receiver_url, bodies))
    posted = time.monotonic()
    wait_for(lambda: count_done(db, prefix) >= len(bodies), timeout_s=timeout_s, what=prefix)
    return len(bodies) / (time.monotonic() - start), len(bodies) / (posted - start)


# -- the emulator's admin API --------------------------------------------------------------


def admin(base: str, call: Callable[[EmulatorAdmin], Any]) -> Any:
    """One call of the emulator's admin client, e.g. ``admin(base, lambda a: a.requests())``."""

    async def run() -> Any:
        async with aiohttp.ClientSession() as session:
            return await call(EmulatorAdmin(base, session))

    return asyncio.run(run())


def prepare_emulator(base: str, entities: int) -> tuple[str, list[dict[str, Any]]]:
    async def run() -> tuple[str, list[dict[str, Any]]]:
        async with aiohttp.ClientSession() as session:
            emulator = EmulatorAdmin(base, session)
            key = await emulator.create_key(name="bench")
            created = [await emulator.trigger("customer.created") for _ in range(entities)]
            return key["key"], [c["data"] for c in created]

    return asyncio.run(run())


async def create_catalogue(base: str, count: int) -> dict[str, list[dict[str, Any]]]:
    """``count`` customers and ``count`` products in the emulator (the bench key has no webhook
    URL: nothing is delivered); every entity as the emulator holds it."""
    events = ["customer.created", "product.created"]
    todo: asyncio.Queue[str] = asyncio.Queue()
    for event in events:
        for _ in range(count):
            todo.put_nowait(event)

    async def creator(session: aiohttp.ClientSession) -> None:
        while not todo.empty():
            event = todo.get_nowait()
            url = f"{base}/__emulator/trigger"
            async with session.post(url, json={"event": event}) as response:
                if response.status >= 300:
                    raise SystemExit(f"emulator answered {response.status} to {event}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(creator(session) for _ in range(CONCURRENCY)))
    async with aiohttp.ClientSession() as session:
        state = await EmulatorAdmin(base, session).state("test")
    return {table: [e for e in rows if not e.pop("deleted")] for table, rows in state.items()}


def api_calls(base: str) -> tuple[int, int]:
    """(requests, 429s) in the emulator's request log since it was last cleared."""
    calls = admin(base, lambda a: a.requests())
    return len(calls), sum(1 for c in calls if c["status"] == 429)


def budget_bursts(
    base: str,
    receiver_url: str,
    db: Path,
    catalogue: dict[str, list[dict[str, Any]]],
    *,
    noop_rate: float,
    timeout_s: float,
) -> None:
    """Issue 13's two bursts: full payloads cost no call, thin ones one list scan."""
    customers = catalogue["customers"]
    admin(base, lambda a: a.clear_requests())
    bodies = [
        (f"full_{c['id']}", envelope("customer.updated", c, f"full_{c['id']}")) for c in customers
    ]
    rate = run_phase(receiver_url, db, bodies, "full_", timeout_s=timeout_s)
    calls, too_many = api_calls(base)
    print(
        f"burst, full payloads:        {rate:8.0f} events/s (ratio {rate / noop_rate:.2f} of "
        f"the no-op drain); {len(bodies)} events over {len(customers)} entities -> "
        f"{calls} API calls, {too_many} x 429"
    )
    products = catalogue["products"]
    admin(base, lambda a: a.clear_requests())
    bodies = []
    for p in products:
        thin = {"id": p["id"], "updatedAt": p["updatedAt"]}
        bodies.append((f"thin_{p['id']}", envelope("product.updated", thin, f"thin_{p['id']}")))
    rate = run_phase(receiver_url, db, bodies, "thin_", timeout_s=timeout_s)
    calls, too_many = api_calls(base)
    print(
        f"burst, thin payloads:        {rate:8.0f} events/s (ratio {rate / noop_rate:.2f}); "
        f"{len(bodies)} events over a catalogue of {len(products)} -> {calls} API calls, "
        f"{too_many} x 429"
    )


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per phase")
    parser.add_argument("--entities", type=int, default=100, help="entities of the burst")
    parser.add_argument(
        "--catalogue",
        type=int,
        default=10_000,
        help="customers and products of the API budget bursts, one event each (0: skip them)",
    )
    parser.add_argument("--threads", type=int, default=8, help="worker threads")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--warmup", type=int, default=200, help="untimed events before each")
    parser.add_argument("--timeout-s", type=float, default=60.0, help="bound of each phase")
    parser.add_argument("--budget-s", type=float, default=600.0, help="bound of the whole run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="no-op drain / end-to-end pairs (median ratio)"
    )
    parser.add_argument(
        "--ratio-only",
        action="store_true",
        help="stop after the no-op drain / end-to-end rounds (scripts/bench_ingest's fifth figure)",
    )
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_s

    def bound() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit(f"bench_e2e: over its budget of {args.budget_s:.0f} s")
        return min(args.timeout_s, left)

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()

    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        tmp_path = Path(tmp)
        db = tmp_path / "events.db"
        receiver_port, emulator_port = free_port(), free_port()
        emulator_base = f"http://127.0.0.1:{emulator_port}"
        env = {
            "DATABASE_URL": f"sqlite:///{db}",
            "REDIS_URL": args.redis_url,
            "BILLOGET_WEBHOOK_SECRET": SECRET,
            "BILLOGET_API_URL": f"{emulator_base}/v1",
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
            "PORT": str(receiver_port),
        }
        procs = Procs(tmp_path, env)
        try:
            procs.start("emulator", "emulator", "--port", str(emulator_port))
            procs.start("receiver", "serve")
            wait_for(
                lambda: port_open(emulator_port) and port_open(receiver_port),
                timeout_s=30,
                what="the emulator and the receiver",
            )
            api_key, customers = prepare_emulator(emulator_base, args.entities)
            catalogue = (
                asyncio.run(create_catalogue(emulator_base, args.catalogue))
                if args.catalogue
                else {}
            )
            procs.start(
                "worker",
                "worker",
                "--threads",
                str(args.threads),
                extra={"BILLOGET_API_KEY": api_key},
            )
            receiver_url = f"http://127.0.0.1:{receiver_port}/webhooks/billoget"
            warm = [
                (f"{WARMUP_PREFIX}{i}", envelope("bench.noop", {"n": i}, f"{WARMUP_PREFIX}{i}"))
                for i in range(args.warmup)
            ]
            run_phase(receiver_url, db, warm, WARMUP_PREFIX, timeout_s=bound())

            # each round: the no-op drain, then at once the same number of events end to end
            # (the machine is shared and noisy: each ratio compares neighbours in time)
            rounds: list[tuple[float, float]] = []
            cpu_ms: list[tuple[float, float, float]] = []
            for r in range(args.rounds):
                noop, noop_cpu = noop_drain(
                    args.redis_url,
                    count=args.events,
                    warmup=args.warmup,
                    threads=args.threads,
                    timeout_s=bound(),
                )
                prefix = f"noapi{r}_"
                bodies = [
                    (f"{prefix}{i}", envelope("bench.noop", {"n": i}, f"{prefix}{i}"))
                    for i in range(args.events)
                ]
                cpu_before = procs.cpu_s()
                e2e, posted = timed_phase(receiver_url, db, bodies, prefix, timeout_s=bound())
                cpu = {
                    k: (v - cpu_before.get(k, 0.0)) / args.events for k, v in procs.cpu_s().items()
                }
                rounds.append((noop, e2e))
                cpu_ms.append((noop_cpu * 1e3, cpu["worker"] * 1e3, cpu["receiver"] * 1e3))
                print(
                    f"  round {r + 1}: no-op {noop:6.0f}/s, "
                    f"end to end {e2e:6.0f}/s ({e2e / noop:.2f}; POSTs answered at {posted:.0f}/s);"
                    f" CPU ms/event: no-op {noop_cpu * 1e3:.2f}, worker {cpu['worker'] * 1e3:.2f},"
                    f" receiver {cpu['receiver'] * 1e3:.2f}"
                )
            noop_rate = statistics.median(noop for noop, _ in rounds)
            noapi_rate = statistics.median(e2e for _, e2e in rounds)
            ratio = statistics.median(e2e / noop for noop, e2e in rounds)
            print(
                f"dramatiq no-op drain:        {noop_rate:8.0f} events/s ({args.threads} threads)"
            )
            print(
                f"end to end, no API call:     {noapi_rate:8.0f} events/s "
                f"(ratio {ratio:.2f} of the no-op drain; median of {args.rounds} rounds)"
            )
            noop_ms, worker_ms, receiver_ms = (
                statistics.median(c) for c in zip(*cpu_ms, strict=True)
            )
            print(
                f"CPU per event (medians):      no-op drain {noop_ms:.2f} ms, "
                f"worker {worker_ms:.2f} ms, receiver {receiver_ms:.2f} ms"
            )

            if args.ratio_only:
                return 0
            admin(emulator_base, lambda a: a.clear_requests())
            bodies = []
            for i in range(args.events):
                customer = customers[i % len(customers)]
                bodies.append((f"burst_{i}", envelope("customer.updated", customer, f"burst_{i}")))
            burst_rate = run_phase(receiver_url, db, bodies, "burst_", timeout_s=bound())
            calls = admin(emulator_base, lambda a: a.requests())
            too_many = sum(1 for c in calls if c["status"] == 429)
            print(
                f"end to end, burst:           {burst_rate:8.0f} events/s "
                f"(ratio {burst_rate / noop_rate:.2f}); {args.events} events over "
                f"{args.entities} entities -> {len(calls)} API calls, {too_many} x 429"
            )
            if catalogue:
                budget_bursts(
                    emulator_base,
                    receiver_url,
                    db,
                    catalogue,
                    noop_rate=noop_rate,
                    timeout_s=max(1.0, deadline - time.monotonic()),
                )
        finally:
            procs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
