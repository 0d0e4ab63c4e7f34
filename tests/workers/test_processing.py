"""What a handler's exception means for the event: only PermanentError is dead at once."""

from __future__ import annotations

import json

import pydantic
import pytest

from core.billoget import ApiNotFoundError, ApiServerError, RateLimitedError
from core.errors import PermanentError
from core.store import Result, Status
from workers.errors import BudgetWait, KeyRejected
from workers.processing import classify


def _validation_error() -> pydantic.ValidationError:
    try:
        pydantic.TypeAdapter(int).validate_python("seven")
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("no validation error")


def _json_error() -> json.JSONDecodeError:
    try:
        json.loads("{")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("no decode error")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ValueError("no"), Result.FAILED),
        (_validation_error(), Result.FAILED),
        (_json_error(), Result.FAILED),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), Result.FAILED),
        (RuntimeError("boom"), Result.FAILED),
        (TimeoutError(), Result.FAILED),
        (ApiServerError("500 from Billoget", status=500), Result.FAILED),
        (PermanentError("never"), Result.DEAD),
        (KeyRejected("invalid_api_key"), Result.DEAD),
        (ApiNotFoundError("404", status=404), Result.DEAD),
        (BudgetWait("waiting", delay_s=1.0), Result.DEFERRED),
        (RateLimitedError("429", retry_after_s=2.0), Result.DEFERRED),
    ],
)
def test_only_a_permanent_error_is_dead_at_once(exc: Exception, kind: Result) -> None:
    assert classify(exc).kind is kind


def test_each_result_names_the_status_it_stores() -> None:
    assert {r: r.status for r in Result} == {
        Result.PROCESSED: Status.PROCESSED,
        Result.FAILED: Status.FAILED,
        Result.DEFERRED: Status.QUEUED,
        Result.DEAD: Status.DEAD,
    }
