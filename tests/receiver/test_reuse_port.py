"""``serve --reuse-port``: several receivers on one port of one host, one PostgreSQL store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.signing import sign_headers
from receiver.views import WEBHOOK_PATH
from tests.fixtures.infra import TEST_SECRET
from tests.fixtures.procs import ProcessFactory, free_port, wait_until
from tests.fixtures.receiver import envelope
from tests.fixtures.stack import http_json


def _post(port: int, delivery_id: str) -> int | None:
    body = envelope(delivery_id)
    headers = sign_headers(TEST_SECRET, delivery_id, body)
    try:
        status, _, _ = http_json(
            "POST", f"http://127.0.0.1:{port}{WEBHOOK_PATH}", raw=body, headers=headers
        )
    except OSError:
        return None
    return status


@pytest.mark.slow
def test_two_receivers_share_one_port_and_the_survivor_answers_when_one_dies(
    processes: ProcessFactory, make_database: Callable[[], str], receiver_redis_url: str
) -> None:
    port = free_port()
    env = {
        "BILLOGET_WEBHOOK_SECRET": TEST_SECRET,
        "DATABASE_URL": make_database(),
        "REDIS_URL": receiver_redis_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SELFCHECK_ON_START": "false",
        "LOG_LEVEL": "INFO",
    }
    first = processes.cli("receiver", "serve", "--reuse-port", port=port, env=env).start()
    second = processes.cli("receiver", "serve", "--reuse-port", env=env).start()
    wait_until(
        lambda: "receiver listening" in second.log_path.read_text(errors="replace"),
        timeout_s=20,
        what="the second receiver started",
    )
    assert {_post(port, f"dlv_rp_{n}") for n in range(20)} == {200}
    first.port = None  # the port stays open after the kill (the second holds it): no wait
    first.kill9()
    # only the second can answer on the port now: it bound it too
    wait_until(lambda: _post(port, "dlv_rp_after") == 200, timeout_s=20, what="the survivor")
    assert second.alive
