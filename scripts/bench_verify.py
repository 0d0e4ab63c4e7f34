"""Verification cost per signature scheme, in the same run as its floor.

The floor is one bare ``hmac.digest`` of the Standard Webhooks signed content (what no verifier
can avoid); each scheme's verifier (``core.signing.build_verifier``) then verifies a correctly
signed delivery of the same body, read from a ``CIMultiDictProxy`` as the receiver hands it.
Rounds alternate between all of them (a shared machine drifts); each figure is the median of
the rounds' best-of-3, in µs per verification, and its ratio to the floor.
"""

from __future__ import annotations

import argparse
import hmac
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from multidict import CIMultiDict, CIMultiDictProxy

from core.signing import (
    DEFAULTS,
    SCHEME_NAMES,
    WebhookSecret,
    build_signer,
    build_verifier,
    in_encoding,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY_ID = "dlv_0123456789abcdef01234567"
BODY = (
    b'{"event":"budget.approved","timestamp":"2024-05-01T10:00:00Z","data":{"id":42,'
    b'"name":"ACME","total":1234.5},"metadata":{"source":"api","version":"1.4.0",'
    b'"delivery_id":"dlv_0123456789abcdef01234567"}}'
)
EXTRA_HEADERS = {"Content-Type": "application/json", "User-Agent": "Billoget", "Host": "h"}


def candidates() -> dict[str, Callable[[], object]]:
    now = int(time.time())
    secret = WebhookSecret.parse(SECRET)
    signed = f"{DELIVERY_ID}.{now}.".encode() + BODY
    found: dict[str, Callable[[], object]] = {
        "bare hmac (floor)": lambda: hmac.digest(secret.key, signed, "sha256")
    }
    for name in SCHEME_NAMES:
        config = DEFAULTS[name]
        key = in_encoding(secret, config.key_encoding)
        headers = build_signer(config).headers([key], DELIVERY_ID, BODY, timestamp=now)
        proxy = CIMultiDictProxy(CIMultiDict(headers | EXTRA_HEADERS))
        verifier = build_verifier(config, [key.key])
        found[name] = lambda v=verifier, h=proxy: v.verify(h, BODY)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=100_000)
    args = parser.parse_args()
    runs = candidates()
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            best = min(timeit.repeat(fn, number=args.number, repeat=3))
            timings[name].append(best / args.number * 1e6)
    floor = statistics.median(timings["bare hmac (floor)"])
    for name, values in timings.items():
        median = statistics.median(values)
        sys.stdout.write(
            f"{name:20s} {median:6.2f} µs   ratio to the floor {median / floor:4.2f}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
