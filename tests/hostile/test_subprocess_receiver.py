"""A sample of the hostile corpus through the real ``billoget-hooks serve`` process (its own
logging set-up, access log off, the same HTTP stack as production): never a 5xx, nothing
unverified stored, no traceback in the process log."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from core.signing import sign
from tests.fixtures.stack import MakeStack, Stack
from tests.hostile.corpus import CORPUS_BY_NAME, MAX_BODY, NOW, Case
from tests.hostile.rawhttp import build_request, send_raw

SAMPLE = [
    "webhook-signature missing",
    "webhook-id duplicated with another value",
    "signature from a rotated-out secret",
    "timestamp hex",
    "body 10k levels of nested arrays",
    "body invalid UTF-8",
    "envelope without metadata",
    "webhook-id differs from metadata.delivery_id",
    "method GET on the webhook path",
    "path in upper case",
    "body over the cap, chunked",
]


def resigned_now(case: Case, stack: Stack) -> Case:
    """The case with its timestamp moved from the corpus' fixed clock to now (same offset)
    and, where it was signed with the corpus secret, signed again with the stack's."""
    from dataclasses import replace

    offset = int(time.time()) - NOW
    headers = dict((str(k), v) for k, v in case.headers)
    msg_id, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
    if not (isinstance(ts, str) and ts.isdigit() and isinstance(msg_id, str)):
        return case
    new_ts = int(ts) + offset
    out = []
    for name, value in case.headers:
        if name == "webhook-timestamp":
            value = str(new_ts)
        elif name == "webhook-signature" and case.name != "signature from a rotated-out secret":
            value = sign(stack.secret, msg_id, new_ts, case.body)
        out.append((name, value))
    return replace(case, headers=tuple(out))


@pytest.mark.slow
def test_a_sample_of_the_corpus_against_the_serve_process_is_never_a_5xx(
    make_stack: MakeStack,
) -> None:
    stack = make_stack(
        emulator=False,
        worker=False,
        receiver_env={"LOG_LEVEL": "DEBUG", "BILLOGET_MAX_BODY_BYTES": str(MAX_BODY)},
    )
    port = stack.receiver.port
    assert port is not None
    for name in SAMPLE:
        case = resigned_now(CORPUS_BY_NAME[name], stack)
        request = build_request(
            case.method,
            case.path,
            list(case.headers),
            case.body,
            host=f"127.0.0.1:{port}",
            chunked=case.chunked,
        )
        response = asyncio.run(send_raw("127.0.0.1", port, request, method=case.method))
        assert response.status < 500 and response.status in case.expect, (name, response)
    with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    log = stack.receiver.log_path.read_text(errors="replace")
    assert "Traceback" not in log and " ERROR " not in log, stack.receiver.log_tail(30)
