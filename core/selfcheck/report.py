"""The self-check's report: one result per check, each with a one-line diagnosis.

A check's ``status`` is ``pass``, ``warn`` (works, but read the summary), ``fail`` or ``skip``
(not run because an earlier check failed). ``ok`` is true for ``pass`` and ``warn``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

CheckStatus = Literal["pass", "warn", "fail", "skip"]

CONFIGURATION = "configuration"
WEBHOOKS_SCOPE = "webhooks_scope"
ROUND_TRIP = "round_trip"
READ_SCOPES = "read_scopes"
LABELS = {
    CONFIGURATION: "configuration",
    WEBHOOKS_SCOPE: "API key and WEBHOOKS scope",
    ROUND_TRIP: "round trip",
    READ_SCOPES: "READ scopes for the mirror",
}
MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}


class CheckResult(BaseModel):
    name: str
    status: CheckStatus
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return self.status in ("pass", "warn")

    def line(self) -> str:
        return f"{MARKS[self.status]} {LABELS.get(self.name, self.name)}: {self.summary}"


def passed(name: str, summary: str, **detail: Any) -> CheckResult:
    return CheckResult(name=name, status="pass", summary=summary, detail=detail)


def warned(name: str, summary: str, **detail: Any) -> CheckResult:
    return CheckResult(name=name, status="warn", summary=summary, detail=detail)


def failed(name: str, summary: str, **detail: Any) -> CheckResult:
    return CheckResult(name=name, status="fail", summary=summary, detail=detail)


def skipped(name: str, summary: str) -> CheckResult:
    return CheckResult(name=name, status="skip", summary=summary)


class SelfCheckReport(BaseModel):
    ok: bool
    checks: list[CheckResult]
    started_at: str
    finished_at: str
    latency_ms: float | None = None

    @classmethod
    def build(
        cls,
        checks: list[CheckResult],
        *,
        started_at: str,
        finished_at: str,
        latency_ms: float | None = None,
    ) -> SelfCheckReport:
        ok = bool(checks) and all(c.ok for c in checks)
        return cls(
            ok=ok,
            checks=checks,
            started_at=started_at,
            finished_at=finished_at,
            latency_ms=latency_ms,
        )

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    def first_problem(self) -> CheckResult | None:
        return next((c for c in self.checks if c.status == "fail"), None)

    def verdict(self) -> str:
        good = sum(c.ok for c in self.checks)
        word = "passed" if self.ok else "FAILED"
        return f"self-check {word} ({good} of {len(self.checks)} checks ok)"

    def lines(self) -> list[str]:
        return [*(c.line() for c in self.checks), self.verdict()]

    def to_json(self) -> str:
        return self.model_dump_json()
