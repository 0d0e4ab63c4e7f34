"""Ingest benchmark: (a) a bare aiohttp endpoint that reads the body and answers 200,
(b) our receiver (``billoget-hooks serve``: verify, parse, group commit, relay to Redis), and
(d) the naive peer: what a user would write with the peers' libraries (aiohttp, the
``standardwebhooks`` verifier, one SQLite commit per request in the default executor with
``synchronous=FULL``, then ``actor.send()``).

Before the load phases it measures the store disk's fsync latency (4 KB write + fdatasync,
``--fsync-samples`` times, in the directory that holds the benchmark's SQLite file). Bodies are
about 1 KB of realistic envelope (the sample ``budget.updated`` resource, items repeated).

Each server runs alone in its own process (both start once and idle while the other is
measured); one load generator process per phase drives them the same way (a raw asyncio
HTTP/1.1 client, keep-alive connections, pre-signed requests with unique ids, a one-second
warm-up):

1. saturation: ``--connections`` concurrent connections, closed loop, ``--duration`` seconds,
   alternating bare/ours ``--rounds`` times (a shared, noisy machine drifts: alternating and
   taking the best and the median of each keeps the comparison fair);
2. fixed rate: ``--rate`` requests per second (open loop) against the receiver, ``--rounds``
   times, latency counted from the moment each request was due (no coordinated omission).

The fixed-rate phase also runs against (a), so both p99s at that rate come from one run.
Prints req/s, p50, p99 and the server's CPU time per request for every phase, then the best
and the median of each, and the five targets of issue 14 with their verdicts. The fifth,
workers end to end against Dramatiq's no-op drain, is ``scripts/bench_e2e --ratio-only``, run
once the servers above have stopped (``--workers-rounds``, ``--workers-events``; 0 rounds skips
it). Every server runs on the same event loop implementation (``--loop``; the receiver's
``EVENT_LOOP`` setting). Uses a temporary SQLite file and a Redis database that it empties
(``--redis-url``, default db 15).

``--store postgresql`` compares the stores instead, same load, same run, alternating: the
receiver on SQLite, on PostgreSQL with one process, and on PostgreSQL with two processes
sharing the port (``serve --reuse-port``), with the ratios. The PostgreSQL database is a
throwaway one created on ``--database-url``'s server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billoget_hooks.procs import Proc, cli_argv, free_port, wait_until

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PATH = "/webhooks/billoget"
WARMUP_REQUESTS = 500
ROOT = Path(__file__).resolve().parent.parent


# -- the bare server ---------------------------------------------------------------------------


def use_loop(name: str) -> None:
    """The same loop choice the receiver makes for its ``EVENT_LOOP`` setting."""
    from receiver.commands import install_event_loop

    install_event_loop(name)


def serve_bare(port: int, loop: str) -> None:
    from aiohttp import web

    use_loop(loop)

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"received": True})

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(PATH, handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_naive(port: int, loop: str, db: str, redis_url: str) -> None:
    """The peers' way: verify with ``standardwebhooks``, one commit per request, then send."""
    import asyncio as aio

    import dramatiq
    from aiohttp import web
    from dramatiq.brokers.redis import RedisBroker
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    use_loop(loop)
    dramatiq.set_broker(RedisBroker(url=redis_url))

    @dramatiq.actor(queue_name="naive-bench")
    def process(delivery_id: str) -> None:  # never run: the bench has no worker
        del delivery_id

    hook = Webhook(SECRET)
    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body BLOB)")

    def store(delivery_id: str, body: bytes) -> bool:
        with conn:
            cur = conn.execute("INSERT OR IGNORE INTO events VALUES (?, ?)", (delivery_id, body))
        return cur.rowcount == 1

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            hook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return web.json_response({"error": "invalid signature"}, status=401)
        envelope = json.loads(body)
        delivery_id = envelope["metadata"]["delivery_id"]
        new = await aio.get_running_loop().run_in_executor(None, store, delivery_id, body)
        if new:
            process.send(delivery_id)
        return web.json_response({"received": True})

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(PATH, handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def fsync_latencies(directory: str, samples: int) -> dict[str, float]:
    """p50, p99 and max of a 4 KB write + fdatasync in ``directory``, in ms."""
    block = os.urandom(4096)
    fd, path = tempfile.mkstemp(dir=directory, prefix="fsync-probe-")
    try:
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    return {
        "p50_ms": times[len(times) // 2],
        "p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
        "max_ms": times[-1],
    }


# -- requests ----------------------------------------------------------------------------------


BODY_BYTES = 1024


def realistic_data(i: int) -> dict[str, Any]:
    """The sample ``budget.updated`` resource with its items repeated to about 1 KB."""
    from core.samples import envelope_bytes, sample_data

    data = sample_data("budget.updated")
    data["id"] = i
    items = data.get("items") or []
    while items and len(envelope_bytes("budget.updated", data, delivery_id="x" * 24)) < BODY_BYTES:
        items.append(dict(items[0], id=len(items) + 1))
    return data


def build_requests(count: int, *, port: int, prefix: str) -> list[bytes]:
    from core.samples import envelope_bytes
    from core.signing import sign_headers

    out = []
    template = realistic_data(0)
    for i in range(count):
        delivery_id = f"{prefix}_{i}"
        body = envelope_bytes("budget.updated", dict(template, id=i), delivery_id=delivery_id)
        headers = sign_headers(SECRET, delivery_id, body)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        )
        out.append(head.encode() + body)
    return out


# -- the load generator ------------------------------------------------------------------------


class Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.buf = b""
        self.waiter: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buf[:end].lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
        if len(self.buf) < end + 4 + length:
            return
        status = int(self.buf[9:12])
        self.buf = self.buf[end + 4 + length :]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))

    async def request(self, payload: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(payload)
        return await self.waiter


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        pick = (
            (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: 0)
        )
        return {
            "requests": len(lat),
            "rps": len(lat) / self.elapsed_s if self.elapsed_s else 0.0,
            "p50_ms": pick(0.50),
            "p99_ms": pick(0.99),
            "max_ms": lat[-1] * 1000 if lat else 0.0,
            "statuses": self.statuses,
        }


async def _connect(port: int, n: int) -> list[Conn]:
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(n):
        _, proto = await loop.create_connection(Conn, "127.0.0.1", port)
        sock = proto.transport.get_extra_info("socket") if proto.transport else None
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(proto)
    return conns


async def closed_loop(
    port: int, requests: list[bytes], *, connections: int, duration_s: float
) -> Result:
    conns = await _connect(port, connections)
    result, it = Result(), iter(requests)
    deadline = time.perf_counter() + duration_s

    async def worker(conn: Conn) -> None:
        for payload in it:
            if time.perf_counter() >= deadline:
                return
            t0 = time.perf_counter()
            status = await conn.request(payload)
            result.record(status, time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    result.elapsed_s = time.perf_counter() - started
    for c in conns:
        c.transport.close() if c.transport else None
    return result


async def open_loop(
    port: int, requests: list[bytes], *, rate: int, duration_s: float, connections: int
) -> Result:
    conns = await _connect(port, connections)
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for c in conns:
        idle.put_nowait(c)
    result, total = Result(), min(len(requests), int(rate * duration_s))

    async def send(payload: bytes, due: float) -> None:
        conn = await idle.get()
        status = await conn.request(payload)
        result.record(status, time.perf_counter() - due)
        idle.put_nowait(conn)

    tasks = []
    started = time.perf_counter()
    sent = 0
    while sent < total:
        now = time.perf_counter()
        due_count = min(total, int((now - started) * rate) + 1)
        while sent < due_count:
            tasks.append(asyncio.ensure_future(send(requests[sent], started + sent / rate)))
            sent += 1
        await asyncio.sleep(0.0005)
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - started
    for c in conns:
        c.transport.close() if c.transport else None
    return result


def run_load(args: argparse.Namespace) -> None:
    requests = build_requests(args.count, port=args.port, prefix=args.prefix)
    warmup, main = requests[:WARMUP_REQUESTS], requests[WARMUP_REQUESTS:]
    asyncio.run(closed_loop(args.port, warmup, connections=8, duration_s=1.0))
    if args.rate:
        result = asyncio.run(
            open_loop(
                args.port,
                main,
                rate=args.rate,
                duration_s=args.duration,
                connections=args.connections,
            )
        )
    else:
        result = asyncio.run(
            closed_loop(args.port, main, connections=args.connections, duration_s=args.duration)
        )
    print(json.dumps(result.summary()))


# -- orchestration -----------------------------------------------------------------------------


def load(
    port: int, *, count: int, prefix: str, connections: int, duration: float, rate: int = 0
) -> dict[str, Any]:
    argv = [
        sys.executable,
        __file__,
        "--load",
        "--port",
        str(port),
        "--count",
        str(count),
        "--prefix",
        prefix,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--rate",
        str(rate),
    ]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(proc: Proc, port: int, **kwargs: Any) -> dict[str, Any]:
    """One load phase against ``proc``, with the server's CPU time per answered request."""
    before = cpu_seconds(proc.pid)
    r = load(port, **kwargs)
    after = cpu_seconds(proc.pid)
    answered = r["requests"] + WARMUP_REQUESTS
    r["cpu_us"] = (
        1e6 * (after - before) / answered if before is not None and after is not None else None
    )
    return r


def show(name: str, r: dict[str, Any]) -> None:
    bad = {k: v for k, v in r["statuses"].items() if k != "200"}
    cpu = f"  cpu {r['cpu_us']:4.0f} us/req" if r.get("cpu_us") is not None else ""
    print(
        f"{name:<30} {r['rps']:>7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
        f"{cpu}  ({r['requests']} requests{', non-200: ' + str(bad) if bad else ''})",
        flush=True,
    )


def summarize(label: str, runs: list[dict[str, Any]], name: str) -> dict[str, float]:
    """Best (highest req/s, lowest p99) and median of each figure over the rounds."""
    pick = {
        "rps": (max(r["rps"] for r in runs), statistics.median(r["rps"] for r in runs)),
        "p50": (min(r["p50_ms"] for r in runs), statistics.median(r["p50_ms"] for r in runs)),
        "p99": (min(r["p99_ms"] for r in runs), statistics.median(r["p99_ms"] for r in runs)),
    }
    cpus = [r["cpu_us"] for r in runs if r.get("cpu_us") is not None]
    cpu = f"{min(cpus):5.0f} / {statistics.median(cpus):5.0f}" if cpus else "    - /     -"
    if name.endswith("@rate"):
        label = {"bare@rate": "(a) bare aiohttp", "ours@rate": "(b) receiver"}[name] + " at rate"
    print(
        f"{label:<28} {pick['rps'][0]:>7.0f} / {pick['rps'][1]:>7.0f}"
        f"   {pick['p50'][0]:6.2f} / {pick['p50'][1]:6.2f}"
        f"   {pick['p99'][0]:6.2f} / {pick['p99'][1]:6.2f}   {cpu}"
    )
    medians = {k: v[1] for k, v in pick.items()} | {f"best_{k}": v[0] for k, v in pick.items()}
    return medians | {"cpu": statistics.median(cpus) if cpus else float("nan")}


def _received(db: Path) -> int:
    """Rows the relay has not put on Redis yet."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM events WHERE status = 'received'").fetchone()
    return int(count)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    p.add_argument(
        "--connections", type=int, default=64, help="concurrent connections (saturation)"
    )
    p.add_argument(
        "--rate", type=int, default=1000, help="requests per second of the fixed-rate phase"
    )
    p.add_argument("--rounds", type=int, default=2, help="times each phase runs (alternating)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="event loop"
    )
    p.add_argument("--fsync-samples", type=int, default=2000)
    p.add_argument("--no-naive", action="store_true", help="skip the naive-peer phase")
    p.add_argument(
        "--workers-rounds",
        type=int,
        default=3,
        help="rounds of scripts/bench_e2e --ratio-only for the fifth figure (0: skip it)",
    )
    p.add_argument("--workers-events", type=int, default=2000, help="events per workers round")
    p.add_argument(
        "--store",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="sqlite: bare aiohttp vs the receiver; postgresql: the receiver on SQLite vs "
        "PostgreSQL (1 process, 2 --reuse-port processes)",
    )
    p.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="with --store postgresql: a server where a throwaway database may be created",
    )
    p.add_argument("--database-prefix", default="bh_bench_", help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--prefix", default="b", help=argparse.SUPPRESS)
    p.add_argument("--db", default="", help=argparse.SUPPRESS)
    p.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-naive", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_bare:
        return serve_bare(args.port, args.loop)
    if args.serve_naive:
        return serve_naive(args.port, args.loop, args.db, args.redis_url)
    if args.load:
        return run_load(args)
    if args.store == "postgresql":
        return bench_stores(args)
    bench(args)


@dataclass
class Phases:
    """Every measured round, by phase name."""

    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, name: str, r: dict[str, Any]) -> None:
        self.runs.setdefault(name, []).append(r)


def bench(args: argparse.Namespace) -> None:
    import redis

    count = int(args.duration * 30_000) + WARMUP_REQUESTS  # more than any phase can send
    at_rate_count = int(args.rate * args.duration) + WARMUP_REQUESTS
    rdb = redis.Redis.from_url(args.redis_url)
    rdb.flushdb()
    body_len = len(build_requests(1, port=0, prefix="probe")[0].split(b"\r\n\r\n", 1)[1])
    print(
        f"ingest benchmark: {os.cpu_count()} CPUs, {args.connections} connections, "
        f"{args.duration:g} s per phase, {args.rounds} rounds (alternating), {body_len} byte "
        f"bodies, loop {args.loop}, one server process each, one load-generator process",
        flush=True,
    )
    phases = Phases()
    with tempfile.TemporaryDirectory() as tmp:
        fsync = fsync_latencies(tmp, args.fsync_samples)
        print(
            f"store disk fsync (4 KB write + fdatasync, {args.fsync_samples}x): "
            f"p50 {fsync['p50_ms']:.2f} ms  p99 {fsync['p99_ms']:.2f} ms  "
            f"max {fsync['max_ms']:.2f} ms",
            flush=True,
        )
        db = Path(tmp) / "bench.db"
        env = {
            "BILLOGET_WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": f"sqlite:///{db}",
            "REDIS_URL": args.redis_url,
            "LOG_LEVEL": "WARNING",
            "SELFCHECK_ON_START": "false",
            "EVENT_LOOP": args.loop,
        }
        ports = {name: free_port() for name in ("bare", "ours", "naive")}
        me = [sys.executable, __file__, "--loop", args.loop, "--redis-url", args.redis_url]
        argvs = {
            "bare": [*me, "--serve-bare", "--port", str(ports["bare"])],
            "ours": cli_argv("serve", "--host", "127.0.0.1", "--port", str(ports["ours"])),
            "naive": [
                *[*me, "--serve-naive", "--port", str(ports["naive"])],
                *["--db", str(Path(tmp) / "naive.db")],
            ],
        }
        names = ["bare", "ours"] + ([] if args.no_naive else ["naive"])
        logs = Path(tmp)
        servers = {
            n: Proc(
                n, argvs[n], logs / f"{n}.log", env if n == "ours" else {}, port=ports[n], cwd=ROOT
            ).start()
            for n in names
        }
        labels = {"bare": "(a) bare aiohttp", "ours": "(b) receiver", "naive": "(d) naive peer"}
        try:
            for n in range(args.rounds):
                for name in names:
                    r = measured(
                        servers[name],
                        ports[name],
                        count=count,
                        prefix=f"sat{n}{name}",
                        connections=args.connections,
                        duration=args.duration,
                    )
                    phases.add(name, r)
                    show(f"{labels[name]}, saturation #{n + 1}", r)
                for name in ("bare", "ours"):
                    r = measured(
                        servers[name],
                        ports[name],
                        count=at_rate_count,
                        prefix=f"rate{n}{name}",
                        connections=64,
                        duration=args.duration,
                        rate=args.rate,
                    )
                    phases.add(f"{name}@rate", r)
                    show(f"{labels[name]} at {args.rate}/s #{n + 1}", r)
            wait_until(lambda: not _received(db), timeout_s=30, what="the relay to finish")
        finally:
            for proc in servers.values():
                proc.stop(timeout_s=15)
        with sqlite3.connect(db) as conn:
            rows = dict(
                conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall()
            )
    ours = phases.runs["ours"] + phases.runs["ours@rate"]
    sent_ok = sum(r["statuses"].get("200", 0) for r in ours) + WARMUP_REQUESTS * len(ours)
    messages = rdb.hlen("dramatiq:billoget-events.msgs")
    rdb.flushdb()
    print(
        f"receiver: stored rows {sum(rows.values())} {rows} for {sent_ok} answered 200; "
        f"Dramatiq messages on Redis {messages}"
    )
    workers = workers_ratio(args) if args.workers_rounds else None
    print(f"\n{'best / median':<28} {'req/s':>17}   {'p50 ms':>15}   {'p99 ms':>15}   cpu us/req")
    m = {name: summarize(labels.get(name, ""), runs, name) for name, runs in phases.runs.items()}
    verdicts(m, fsync, rate=args.rate, workers=workers)


def workers_ratio(args: argparse.Namespace) -> float:
    """(e) the fifth figure: ``scripts/bench_e2e --ratio-only`` (its own receiver, worker and
    emulator, after the servers above have stopped), its lines shown; the median ratio."""
    argv = [
        sys.executable,
        str(ROOT / "scripts" / "bench_e2e.py"),
        "--ratio-only",
        *("--catalogue", "0", "--entities", "1"),
        *("--rounds", str(args.workers_rounds), "--events", str(args.workers_events)),
        *("--warmup", str(min(200, args.workers_events)), "--redis-url", args.redis_url),
    ]
    print("(e) workers: scripts/bench_e2e --ratio-only", flush=True)
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    for line in out.splitlines():
        print(f"    {line.strip()}", flush=True)
    found = re.search(r"end to end, no API call: .*\(ratio ([\d.]+) of", out)
    if found is None:
        raise SystemExit(f"bench_e2e printed no ratio:\n{out}")
    return float(found.group(1))


def verdicts(
    m: dict[str, dict[str, float]],
    fsync: dict[str, float],
    *,
    rate: int,
    workers: float | None = None,
) -> None:
    """The ingest targets of issue 14, each from medians of this run."""
    ours, bare, ours_rate, bare_rate = m["ours"], m["bare"], m["ours@rate"], m["bare@rate"]
    p99_bound = bare_rate["p99"] + 2 * fsync["p99_ms"]
    rows = [
        (
            f"CPU per delivery at {rate}/s vs at saturation",
            f"{ours_rate['cpu'] / ours['cpu']:.2f}x "
            f"({ours_rate['cpu']:.0f} / {ours['cpu']:.0f} us)",
            "<= 1.2x",
            ours_rate["cpu"] <= 1.2 * ours["cpu"],
        ),
        (
            f"p99 at {rate}/s",
            f"{ours_rate['p99']:.2f} ms",
            f"<= {p99_bound:.2f} ms (bare {bare_rate['p99']:.2f} + 2 x fsync p99 "
            f"{fsync['p99_ms']:.2f})",
            ours_rate["p99"] <= p99_bound,
        ),
        (
            "saturation req/s vs bare aiohttp",
            f"{ours['rps'] / bare['rps']:.2f}x",
            ">= 0.6x",
            ours["rps"] >= 0.6 * bare["rps"],
        ),
    ]
    if "naive" in m:
        rows.append(
            (
                "saturation req/s vs the naive peer",
                f"{ours['rps'] / m['naive']['rps']:.2f}x",
                ">= 4x",
                ours["rps"] >= 4 * m["naive"]["rps"],
            )
        )
    if workers is not None:
        rows.append(
            (
                "workers end to end vs the no-op drain",
                f"{workers:.2f}x",
                ">= 0.7x",
                workers >= 0.7,
            )
        )
    print("\ntargets (medians of this run)")
    for name, value, target, met in rows:
        print(f"  {'met' if met else 'NOT met':<8} {name:<44} {value:<26} target {target}")


# -- --store postgresql: SQLite vs PostgreSQL (1 process, 2 --reuse-port processes) ----------


def _receivers(env: dict[str, str], port: int, count: int, logs: Path) -> list[Proc]:
    argv = cli_argv("serve", "--host", "127.0.0.1", "--port", str(port), "--reuse-port")
    procs = [Proc("ours", argv, logs / f"ours-{port}-0.log", env, port=port, cwd=ROOT).start()]
    for n in range(1, count):
        log = logs / f"ours-{port}-{n}.log"
        proc = Proc("ours", argv, log, env, cwd=ROOT).start()
        wait_until(  # the port already answers (the first one): wait for its own start-up line
            lambda log=log: "receiver listening" in log.read_text(errors="replace"),
            timeout_s=20,
            what="the second receiver",
        )
        time.sleep(0.5)  # the line comes just before the bind
        procs.append(proc)
    return procs


def _phase(procs: list[Proc], port: int, **kwargs: Any) -> dict[str, Any]:
    before = [cpu_seconds(p.pid) for p in procs]
    r = load(port, **kwargs)
    after = [cpu_seconds(p.pid) for p in procs]
    spent = [a - b for a, b in zip(after, before, strict=True) if a is not None and b is not None]
    answered = r["requests"] + WARMUP_REQUESTS
    r["cpu_us"] = 1e6 * sum(spent) / answered if len(spent) == len(procs) else None
    return r


def bench_stores(args: argparse.Namespace) -> None:
    import secrets

    import psycopg
    import redis
    from psycopg import sql

    count = int(args.duration * 30_000) + WARMUP_REQUESTS
    rdb = redis.Redis.from_url(args.redis_url)
    rdb.flushdb()
    dbname = f"{args.database_prefix}{secrets.token_hex(4)}"
    with psycopg.connect(args.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    pg_url = args.database_url.rsplit("/", 1)[0] + f"/{dbname}"
    print(
        f"store benchmark: {os.cpu_count()} CPUs, {args.connections} connections, "
        f"{args.duration:g} s per phase, {args.rounds} rounds (alternating), one load-generator "
        "process; PostgreSQL on the same machine",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {"sqlite": [], "pg1": [], "pg2": []}
    labels = {
        "sqlite": "(s) SQLite, 1 process",
        "pg1": "(p1) PostgreSQL, 1 process",
        "pg2": "(p2) PostgreSQL, 2 processes",
    }
    base = {
        "BILLOGET_WEBHOOK_SECRET": SECRET,
        "REDIS_URL": args.redis_url,
        "LOG_LEVEL": "INFO",
        "SELFCHECK_ON_START": "false",
        "EVENT_LOOP": args.loop,
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            urls = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}", "pg1": pg_url, "pg2": pg_url}
            for n in range(args.rounds):
                for name in ("sqlite", "pg1", "pg2"):
                    port = free_port()
                    procs = _receivers(
                        {**base, "DATABASE_URL": urls[name]},
                        port,
                        2 if name == "pg2" else 1,
                        Path(tmp),
                    )
                    try:
                        r = _phase(
                            procs,
                            port,
                            count=count,
                            prefix=f"st{n}{name}",
                            connections=args.connections,
                            duration=args.duration,
                        )
                    finally:
                        for proc in procs:
                            proc.stop()
                    runs[name].append(r)
                    show(f"{labels[name]} #{n + 1}", r)
        with psycopg.connect(pg_url) as conn:
            row = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT delivery_id) FROM events"
            ).fetchone()
        print(f"PostgreSQL rows {row[0] if row else 0} (distinct ids {row[1] if row else 0})")
    finally:
        rdb.flushdb()
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
    print(f"\n{'best / median':<24} {'req/s':>17}   {'p50 ms':>15}   {'p99 ms':>15}   cpu us/req")
    s = summarize(labels["sqlite"], runs["sqlite"], "sqlite")
    p1 = summarize(labels["pg1"], runs["pg1"], "pg1")
    p2 = summarize(labels["pg2"], runs["pg2"], "pg2")
    print(
        f"ratios (median req/s): p1/s = {p1['rps'] / s['rps']:.2f}, "
        f"p2/s = {p2['rps'] / s['rps']:.2f}, p2/p1 = {p2['rps'] / p1['rps']:.2f}"
    )


if __name__ == "__main__":
    main()
