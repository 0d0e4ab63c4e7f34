"""The inspector's page timings with a small and a large event store (a benchmark, not a test).

Builds two SQLite stores in a temporary directory, ``--small`` (1,000) and ``--large``
(100,000) events: twelve event types, entity ids spread over 5,000 entities, 90% processed,
5% dead, 3% failed, 2% queued, the bodies of realistic size. For each store it starts a real
receiver (``billoget-hooks serve``, loopback, no token: a loopback client may look) and times
each page ``--repeat`` times in turn with a fresh connection per request, after one warm-up
request. Prints the median and p90 per page, the ratio of each page to ``GET /healthz`` on the
same server in the same run (the baseline: the HTTP round trip itself), and the ratio large /
small: with indexed queries and keyset pages it stays near 1 while the store grows 100 times.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EVENTS = [
    f"{family}.{action}"
    for family, actions in (
        ("budget", ("created", "updated", "approved", "rejected", "expired", "deleted")),
        ("customer", ("created", "updated", "deleted")),
        ("product", ("created", "updated", "deleted")),
    )
    for action in actions
]
STATUSES = [("processed", 90), ("dead", 5), ("failed", 3), ("queued", 2)]
ENTITIES = 5000
CHUNK = 5000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build_store(path: Path, count: int, rng: random.Random) -> None:
    """``count`` events through the store's own insert, then statuses set in bulk."""
    sys.path.insert(0, str(ROOT))
    from core.store import NewDelivery
    from core.store.sqlite.store import SQLiteEventStore

    store = SQLiteEventStore(path)
    store.migrate()
    weights = [w for _, w in STATUSES]
    for start in range(0, count, CHUNK):
        batch = []
        for i in range(start, min(start + CHUNK, count)):
            event = EVENTS[i % len(EVENTS)]
            delivery_id = f"msg_{i:07d}"
            data = {
                "id": rng.randrange(ENTITIES),
                "customer": {"firstName": "Ana", "lastName": "Pérez", "cuit": "20-12345678-9"},
                "items": [{"productCode": f"P{j}", "price": 10.5 * j} for j in range(5)],
                "total": 1234.5,
                "state": 1,
                "updatedAt": "2026-05-01T10:00:00.000Z",
            }
            body = {
                "event": event,
                "timestamp": "2026-05-01T10:00:00Z",
                "data": data,
                "metadata": {"source": "api", "version": "1.4.0", "delivery_id": delivery_id},
            }
            batch.append(
                NewDelivery(
                    delivery_id, event, body["timestamp"], 1_777_000_000, json.dumps(body).encode()
                )
            )
        store.insert_batch(batch)
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        for i in range(0, count, CHUNK):
            for delivery_index in range(i, min(i + CHUNK, count)):
                status = rng.choices([s for s, _ in STATUSES], weights)[0]
                if status != "processed":
                    conn.execute(
                        "UPDATE events SET status = ?, attempts = 3, last_error = ? "
                        "WHERE delivery_id = ?",
                        (
                            status,
                            "handler refused the event: not found",
                            f"msg_{delivery_index:07d}",
                        ),
                    )
        conn.execute(
            "UPDATE events SET status = 'processed', outcome = 'mirrored', attempts = 1 "
            "WHERE status = 'received'"
        )
    conn.close()


def get(port: int, path: str) -> tuple[int, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - start) * 1000
    finally:
        conn.close()


def pages(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        middle = conn.execute(
            "SELECT received_at, delivery_id FROM events ORDER BY received_at, delivery_id "
            "LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM events)"
        ).fetchone()
        dead_id = conn.execute("SELECT delivery_id FROM events WHERE status = 'dead'").fetchone()[0]
    finally:
        conn.close()
    cursor = quote(f"{middle[0]}|{middle[1]}")
    return {
        "healthz (baseline)": "/healthz",
        "overview": "/admin/",
        "events, first page": "/admin/deliveries",
        "events, a page in the middle": f"/admin/deliveries?before={cursor}",
        "events, status=failed": "/admin/deliveries?status=failed",
        "events, type + status": "/admin/deliveries?event=budget.updated&status=dead",
        "events, since 1h": "/admin/deliveries?since=1h",
        "events, by entity id": "/admin/deliveries?q=1234",
        "event detail": f"/admin/deliveries/{dead_id}",
        "dead letters": "/admin/dead",
        "dead letters, confirm all": "/admin/dead/confirm",
        "mirror lookup": "/admin/mirror?family=budget&id=1",
    }


def measure(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "BILLOGET_WEBHOOK_SECRET": SECRET,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing to relay: no Redis needed
        "SELFCHECK_ON_START": "false",
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    env.pop("ADMIN_TOKEN", None)
    exe = Path(sys.executable).with_name("billoget-hooks")
    proc = subprocess.Popen(
        [str(exe), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("bench_inspector: the receiver did not start")
            time.sleep(0.1)
        targets = pages(path)
        timings: dict[str, list[float]] = {name: [] for name in targets}
        for url in targets.values():
            status, _ = get(port, url)  # warm-up (and a check that the page answers)
            if status != 200:
                raise SystemExit(f"bench_inspector: {url} answered {status}")
        for _ in range(repeat):  # pages in turn: a noisy moment hits every page alike
            for name, url in targets.items():
                timings[name].append(get(port, url)[1])
        return {
            name: (statistics.median(ms), statistics.quantiles(ms, n=10)[-1])
            for name, ms in timings.items()
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="bench-inspector-") as work:
        results = {}
        for label, count in (("small", args.small), ("large", args.large)):
            path = Path(work) / f"{label}.db"
            started = time.monotonic()
            build_store(path, count, rng)
            print(f"==> {count:,} events stored in {time.monotonic() - started:.1f} s", flush=True)
            results[label] = measure(path, args.repeat)
    small, large = results["small"], results["large"]
    base = large["healthz (baseline)"][0]
    print(
        f"\npage timings, ms (median / p90 of {args.repeat}); {args.large:,} vs "
        f"{args.small:,} events"
    )
    print(
        f"| page | {args.large:,}: median | p90 | x healthz | {args.small:,}: median "
        f"| large / small |"
    )
    print("|---|---|---|---|---|---|")
    for name, (median, p90) in large.items():
        print(
            f"| {name} | {median:.1f} | {p90:.1f} | {median / base:.1f} | "
            f"{small[name][0]:.1f} | {median / small[name][0]:.2f} |"
        )


if __name__ == "__main__":
    main()
