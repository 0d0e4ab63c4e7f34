"""What the workers raise among themselves (all under :mod:`core.errors`)."""

from __future__ import annotations

from core.errors import PermanentError, RetryLater


class KeyRejected(PermanentError):
    """Billoget refuses the configured API key (401, suspended, IP not whitelisted)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"API key rejected ({code})")
        self.code = code


class ScopeMissing(PermanentError):
    """The API key lacks a scope a handler needs (403 ``insufficient_scope``)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"key lacks {scope}")
        self.scope = scope


class NoApiKey(PermanentError):
    """BILLOGET_API_KEY is not configured."""

    def __init__(self) -> None:
        super().__init__("BILLOGET_API_KEY is not set")


class BudgetWait(RetryLater):
    """The shared API rate budget is spent for now: wait, do not fail."""


class EntityBusy(RetryLater):
    """Another worker is fetching this entity right now."""
