"""``billoget-hooks diagnose --signatures`` against a running receiver: it reads the refused
deliveries from the admin route and names the scheme and the secret that fit."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping

import pytest

from core.signing import WebhookSecret
from tests.fixtures.procs import free_port, wait_until
from tests.fixtures.stack import MakeStack, Stack, http_json

DELIVERIES = 5
STRIPE_SENTENCE = (
    "the last 20 refused deliveries verify as stripe-style (header X-Billoget-Signature) with "
    "your first secret: set BILLOGET_SIGNATURE_SCHEME=stripe-style"
)
# the emulator's retries at this factor: 2.5 ms, 0.15 s, 1 s, 4.6 s, 14 s, 32 s, 75 s, ...
TIME_FACTOR = 0.0005


def diagnose(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "billoget_hooks.cli", "diagnose", "--signatures", *args],
        env={**env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(stack: Stack) -> list[dict[str, object]]:
    status, _, answer = http_json("GET", f"{stack.receiver_url}/admin/refused")
    assert status == 200, answer
    return list(answer["data"])


def stored(stack: Stack, ids: list[str]) -> int:
    return len(stack.rows(ids))


@pytest.mark.slow
def test_stripe_style_deliveries_are_refused_diagnosed_and_accepted_once_the_setting_changes(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(
        worker=False,
        time_factor=TIME_FACTOR,
        emulator_args=("--signature-scheme", "stripe-style"),
    )
    ids = [d for _ in range(DELIVERIES) for d in stack.trigger("customer.created")]

    # refused: the receiver verifies Standard Webhooks; it keeps the last 20 refusals
    wait_until(lambda: len(refused(stack)) >= 20, timeout_s=30, what="20 refusals kept")
    assert stored(stack, ids) == 0
    kept = refused(stack)
    assert {r["status"] for r in kept} == {401}
    assert all("X-Billoget-Signature" in dict(r["headers"]) for r in kept)  # type: ignore[arg-type]

    env = {**stack.env, "PORT": str(stack.receiver.port)}
    found = diagnose(env)
    print(f"DIAGNOSE: {found.stdout.strip()}")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == STRIPE_SENTENCE
    assert stack.secret not in found.stdout + found.stderr
    as_json = json.loads(diagnose(env, "--json").stdout)
    assert as_json["scheme"] == "stripe-style" and as_json["secret"] == 1

    # the fix the sentence names, then the emulator's own retries get in
    stack.receiver.stop()
    stack.receiver.env["BILLOGET_SIGNATURE_SCHEME"] = "stripe-style"
    stack.receiver.start()
    wait_until(lambda: stored(stack, ids) == len(ids), timeout_s=90, what="the retries stored")
    delivered = {d["id"]: d for d in stack.deliveries()}
    for delivery_id in ids:
        attempts = delivered[delivery_id]["attempts"]
        assert attempts[-1]["status_code"] == 200
        assert any(a["status_code"] == 401 for a in attempts)


@pytest.mark.slow
def test_diagnose_says_the_secret_is_probably_wrong_when_nothing_fits(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(worker=False, time_factor=TIME_FACTOR)
    stack.trigger("customer.created")
    other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    stack.receiver.stop()
    stack.receiver.env["BILLOGET_WEBHOOK_SECRET"] = other
    stack.receiver.start()
    stack.trigger("customer.created")
    wait_until(lambda: len(refused(stack)) >= 2, timeout_s=30, what="refusals kept")
    found = diagnose({**stack.env, "BILLOGET_WEBHOOK_SECRET": other})
    assert found.returncode == 1
    configured = WebhookSecret.parse(other).fingerprint()  # the one /metrics shows
    assert f"the secret is probably wrong (fingerprint {configured})" in found.stdout
    assert "they look signed as standard-webhooks" in found.stdout
    assert other not in found.stdout and stack.secret not in found.stdout


def test_diagnose_without_a_receiver_says_where_it_looked() -> None:
    port = free_port()
    found = diagnose(
        {"PATH": "/usr/bin:/bin", "PORT": str(port), "BILLOGET_WEBHOOK_SECRET": ""},
    )
    assert found.returncode == 3
    assert f"cannot reach the receiver at http://127.0.0.1:{port}" in found.stderr
