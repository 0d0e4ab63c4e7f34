"""Ingest benchmark: (a) a bare aiohttp endpoint that reads the body and answers 200, and
(b) our receiver (``billoget-hooks serve``: verify, parse, group commit, relay to Redis).

Each server runs alone in its own process (both start once and idle while the other is
measured); one load generator process per phase drives them the same way (a raw asyncio
HTTP/1.1 client, keep-alive connections, pre-signed requests with unique ids, a one-second
warm-up):

1. saturation: ``--connections`` concurrent connections, closed loop, ``--duration`` seconds,
   alternating bare/ours ``--rounds`` times (a shared, noisy machine drifts: alternating and
   taking the best and the median of each keeps the comparison fair);
2. fixed rate: ``--rate`` requests per second (open loop) against the receiver, ``--rounds``
   times, latency counted from the moment each request was due (no coordinated omission).

Prints req/s, p50, p99 and the server's CPU time per request for every phase, then the best
and the median of each and the ratio (b)/(a). Uses a temporary SQLite file and a Redis
database that it empties (``--redis-url``, default db 15 of the local Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PATH = "/webhooks/billoget"
WARMUP_REQUESTS = 500
ROOT = Path(__file__).resolve().parent.parent


# -- the bare server ---------------------------------------------------------------------------


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"received": True})

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_post(PATH, handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- requests ----------------------------------------------------------------------------------


def build_requests(count: int, *, port: int, prefix: str) -> list[bytes]:
    from core.signing import sign_headers

    out = []
    for i in range(count):
        delivery_id = f"{prefix}_{i}"
        body = json.dumps(
            {
                "event": "budget.updated",
                "timestamp": "2024-05-01T10:00:00Z",
                "data": {"id": i, "customerId": 7, "total": 1234.5, "state": 0, "iva": 214.25},
                "metadata": {"source": "api", "version": "1.4.0", "delivery_id": delivery_id},
            }
        ).encode()
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server did not listen on {port}")


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


def measured(proc: subprocess.Popen[bytes], port: int, **kwargs: Any) -> dict[str, Any]:
    """One load phase against ``proc``, with the server's CPU time per answered request."""
    before = cpu_seconds(proc.pid)
    r = load(port, **kwargs)
    after = cpu_seconds(proc.pid)
    answered = r["requests"] + WARMUP_REQUESTS
    r["cpu_us"] = (
        1e6 * (after - before) / answered if before is not None and after is not None else None
    )
    return r


def start_server(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_for_port(port, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def show(name: str, r: dict[str, Any]) -> None:
    bad = {k: v for k, v in r["statuses"].items() if k != "200"}
    cpu = f"  cpu {r['cpu_us']:4.0f} us/req" if r.get("cpu_us") is not None else ""
    print(
        f"{name:<30} {r['rps']:>7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
        f"{cpu}  ({r['requests']} requests{', non-200: ' + str(bad) if bad else ''})",
        flush=True,
    )


def summarize(name: str, runs: list[dict[str, Any]]) -> dict[str, float]:
    """Best (highest req/s, lowest p99) and median of each figure over the rounds."""
    pick = {
        "rps": (max(r["rps"] for r in runs), statistics.median(r["rps"] for r in runs)),
        "p50": (min(r["p50_ms"] for r in runs), statistics.median(r["p50_ms"] for r in runs)),
        "p99": (min(r["p99_ms"] for r in runs), statistics.median(r["p99_ms"] for r in runs)),
    }
    cpus = [r["cpu_us"] for r in runs if r.get("cpu_us") is not None]
    cpu = f"{min(cpus):5.0f} / {statistics.median(cpus):5.0f}" if cpus else "    - /     -"
    print(
        f"{name:<24} {pick['rps'][0]:>7.0f} / {pick['rps'][1]:>7.0f}"
        f"   {pick['p50'][0]:6.2f} / {pick['p50'][1]:6.2f}"
        f"   {pick['p99'][0]:6.2f} / {pick['p99'][1]:6.2f}   {cpu}"
    )
    return {k: v[1] for k, v in pick.items()} | {f"best_{k}": v[0] for k, v in pick.items()}


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
    p.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--prefix", default="b", help=argparse.SUPPRESS)
    p.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_bare:
        return serve_bare(args.port)
    if args.load:
        return run_load(args)
    bench(args)


def bench(args: argparse.Namespace) -> None:
    import redis

    count = int(args.duration * 30_000) + WARMUP_REQUESTS  # more than any phase can send
    rdb = redis.Redis.from_url(args.redis_url)
    rdb.flushdb()
    print(
        f"ingest benchmark: {os.cpu_count()} CPUs, {args.connections} connections, "
        f"{args.duration:g} s per phase, {args.rounds} rounds (alternating), one server "
        "process each, one load-generator process",
        flush=True,
    )
    saturation = {"bare": [], "ours": []}
    at_rate: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        env = {
            "BILLOGET_WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": f"sqlite:///{db}",
            "REDIS_URL": args.redis_url,
            "LOG_LEVEL": "WARNING",
            "SELFCHECK_ON_START": "false",
        }
        bare_port, ours_port = free_port(), free_port()
        bare_argv = [sys.executable, __file__, "--serve-bare", "--port", str(bare_port)]
        ours_argv = [sys.executable, "-m", "billoget_hooks.cli", "serve", "--host", "127.0.0.1"]
        servers = {
            "bare": (start_server(bare_argv, {}, bare_port), bare_port),
            "ours": (
                start_server([*ours_argv, "--port", str(ours_port)], env, ours_port),
                ours_port,
            ),
        }
        try:
            for n in range(args.rounds):
                for name, label in (("bare", "(a) bare aiohttp"), ("ours", "(b) receiver")):
                    proc, port = servers[name]
                    r = measured(
                        proc,
                        port,
                        count=count,
                        prefix=f"sat{n}{name}",
                        connections=args.connections,
                        duration=args.duration,
                    )
                    saturation[name].append(r)
                    show(f"{label}, saturation #{n + 1}", r)
            proc, port = servers["ours"]
            for n in range(args.rounds):
                r = measured(
                    proc,
                    port,
                    count=int(args.rate * args.duration) + WARMUP_REQUESTS,
                    prefix=f"rate{n}",
                    connections=64,
                    duration=args.duration,
                    rate=args.rate,
                )
                at_rate.append(r)
                show(f"(c) receiver at {args.rate}/s #{n + 1}", r)
            time.sleep(1.0)  # let the relay finish
        finally:
            for proc, _ in servers.values():
                stop(proc)
        with sqlite3.connect(db) as conn:
            rows = dict(
                conn.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall()
            )
    ours = saturation["ours"] + at_rate
    sent_ok = sum(r["statuses"].get("200", 0) for r in ours) + WARMUP_REQUESTS * len(ours)
    messages = rdb.hlen("dramatiq:billoget-events.msgs")
    rdb.flushdb()
    print(
        f"stored rows {sum(rows.values())} {rows} for {sent_ok} answered 200; "
        f"Dramatiq messages on Redis {messages}"
    )
    print(f"\n{'best / median':<24} {'req/s':>17}   {'p50 ms':>15}   {'p99 ms':>15}   cpu us/req")
    a = summarize("(a) bare aiohttp", saturation["bare"])
    b = summarize("(b) receiver", saturation["ours"])
    c = summarize(f"(c) receiver at {args.rate}/s", at_rate)
    ratio = b["rps"] / a["rps"] if a["rps"] else 0.0
    best_ratio = b["best_rps"] / a["best_rps"] if a["best_rps"] else 0.0
    print(
        f"ratio (b)/(a) = {ratio:.2f} median, {best_ratio:.2f} best (target >= 0.6); "
        f"p99 at {args.rate} req/s = {c['p99']:.2f} ms median, {c['best_p99']:.2f} ms best "
        "(target <= 5 ms)"
    )


if __name__ == "__main__":
    main()
