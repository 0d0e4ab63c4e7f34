"""One typed ``Settings`` for every process, read from the environment (and ``.env``).

Built once in an entry point (each ``billoget-hooks`` command, the workers' Dramatiq entry,
``scripts/send_test_webhook``) and passed down. Nothing else reads ``os.environ``, with one
exception: ``billoget-hooks dev`` (``billoget_hooks.devstack.stack``) looks at ``REDIS_URL`` and
at whether ``BILLOGET_API_URL``/``BILLOGET_API_KEY``/``BILLOGET_WEBHOOK_SECRET`` are set to
decide what to start, passes its environment on to the processes it starts, and builds their
``Settings`` from the values it gives them.
Secrets are ``SecretStr``: their repr and str are redacted.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError
from core.signing import DEFAULT_TOLERANCE_S, WebhookSecret, parse_secrets

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_DATABASE_URL = "sqlite:///data/billoget-hooks.db"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_API_URL = "https://api.billoget.com/v1"
DEFAULT_API_TIMEOUT_S = 10.0
DEFAULT_API_BUDGET_PER_HOUR = 1000
DEFAULT_API_BUDGET_RESERVE = 50
DEFAULT_API_PACE_BELOW = 100
DEFAULT_WORKER_THREADS = 8
DEFAULT_WORKER_MAX_ATTEMPTS = 10
DEFAULT_WORKER_RETRY_BASE_S = 1.0
DEFAULT_WORKER_RETRY_CAP_S = 3600.0
DEFAULT_WORKER_TIME_LIMIT_S = 120.0
DEFAULT_WORKER_FETCH_LOCK_S = 10.0
DEFAULT_WORKER_PROBLEM_TTL_S = 300.0
DEFAULT_RELAY_SWEEP_INTERVAL_S = 5.0
DEFAULT_RELAY_RECEIVED_GRACE_S = 10.0
DEFAULT_RELAY_STALE_AFTER_S = 300.0
DEFAULT_SIGNATURE_ALERT_COUNT = 20
DEFAULT_SIGNATURE_ALERT_WINDOW_S = 300.0
DEFAULT_ALERT_CHECK_INTERVAL_S = 5.0
WORKER_METRICS_DIRNAME = "worker-metrics"
DEFAULT_ADMIN_SESSION_TTL_S = 12 * 3600.0


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[IPNetwork]:
    """``"10.0.0.0/8, 192.0.2.7"`` → networks; ValueError names the bad entry."""
    networks = []
    for part in filter(None, (p.strip() for p in text.replace(" ", ",").split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR range") from None
    return networks


class Settings(BaseSettings):
    """Configuration of the receiver, the workers and the self-check.

    Each field is read from the environment variable of the same name in upper case.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = Field("0.0.0.0", description="Address the receiver listens on.")  # noqa: S104
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="Port the receiver listens on.")
    redis_url: str = Field(DEFAULT_REDIS_URL, description="Redis for the Dramatiq queue.")
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="Event store. `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`.",
    )
    billoget_webhook_secret: SecretStr | None = Field(
        None,
        description="One or more `whsec_...` secrets, space or comma separated (rotation).",
    )
    billoget_tolerance_s: int = Field(
        DEFAULT_TOLERANCE_S, ge=1, description="Accepted clock skew of `webhook-timestamp`."
    )
    billoget_max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES, ge=1024, description="Largest webhook body accepted (413 above)."
    )
    billoget_api_url: str = Field(DEFAULT_API_URL, description="Base URL of the Billoget API.")
    billoget_api_key: SecretStr | None = Field(
        None, description="`bk_live_...`/`bk_test_...` key the workers and self-check use."
    )
    billoget_public_url: str | None = Field(
        None,
        description="Public URL Billoget delivers to, e.g. https://hooks.example.com/webhooks/billoget.",
    )
    billoget_handlers: str = Field(
        "", description="Extra handler modules to import, comma separated (see README)."
    )
    billoget_api_timeout_s: float = Field(
        DEFAULT_API_TIMEOUT_S, gt=0, description="Timeout of one Billoget API request."
    )
    billoget_api_budget_per_hour: int = Field(
        DEFAULT_API_BUDGET_PER_HOUR,
        ge=1,
        description="API requests per hour the key allows (lowered by X-RateLimit-Limit).",
    )
    billoget_api_budget_reserve: int = Field(
        DEFAULT_API_BUDGET_RESERVE,
        ge=0,
        description="Requests per hour the workers leave unused (self-check, people, scripts).",
    )
    billoget_api_pace_below: int = Field(
        DEFAULT_API_PACE_BELOW,
        ge=0,
        description="Workers spread their calls until the reset once X-RateLimit-Remaining "
        "falls below this.",
    )
    worker_threads: int = Field(
        DEFAULT_WORKER_THREADS, ge=1, le=256, description="Events a worker handles at once."
    )
    worker_max_attempts: int = Field(
        DEFAULT_WORKER_MAX_ATTEMPTS,
        ge=1,
        description="Attempts before an event is dead (waits for the rate budget do not count).",
    )
    worker_retry_base_s: float = Field(
        DEFAULT_WORKER_RETRY_BASE_S, gt=0, description="First retry delay (full jitter, doubled)."
    )
    worker_retry_cap_s: float = Field(
        DEFAULT_WORKER_RETRY_CAP_S, gt=0, description="Longest delay between two attempts."
    )
    worker_time_limit_s: float = Field(
        DEFAULT_WORKER_TIME_LIMIT_S, gt=0, description="Longest one processing attempt may run."
    )
    worker_fetch_lock_s: float = Field(
        DEFAULT_WORKER_FETCH_LOCK_S,
        gt=0,
        description="Lifetime of the per-entity lock that lets one worker fetch an entity.",
    )
    worker_problem_ttl_s: float = Field(
        DEFAULT_WORKER_PROBLEM_TTL_S,
        gt=0,
        description="How long a rejected key or missing scope is trusted before the API is "
        "asked again.",
    )
    allowed_sender_ips: str = Field(
        "",
        description="Only these sender IPs/CIDRs may POST webhooks (comma separated; empty: any).",
    )
    trusted_proxies: str = Field(
        "",
        description="Proxies (IPs/CIDRs) whose `X-Forwarded-For` is believed, comma separated.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for admin routes; without it they answer loopback only."
    )
    relay_sweep_interval_s: float = Field(
        DEFAULT_RELAY_SWEEP_INTERVAL_S,
        gt=0,
        description="How often the receiver sweeps for events Redis does not have.",
    )
    relay_received_grace_s: float = Field(
        DEFAULT_RELAY_RECEIVED_GRACE_S,
        ge=0,
        description="A `received` row older than this is re-sent by the sweeper.",
    )
    relay_stale_after_s: float = Field(
        DEFAULT_RELAY_STALE_AFTER_S,
        gt=0,
        description="A `queued`/`failed` row with no progress for this long is re-sent "
        "(Redis lost it: flushed, restarted without persistence).",
    )
    selfcheck_on_start: bool = Field(
        True, description="`serve` runs the self-check once it listens (see `selfcheck`)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of every process."
    )
    # -- ingest efficiency (issue 14) --
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        "auto",
        description="Event loop of `serve`: `auto` takes uvloop when it is installed "
        "(the `fast` extra), else asyncio's own.",
    )

    # -- observability: metrics, JSON logs, alerts (issue 11) --
    log_format: Literal["text", "json"] = Field(
        "text", description="`text` for a terminal, `json`: one JSON object per line."
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token for `GET /metrics` (ADMIN_TOKEN works too); with neither "
        "set, it answers loopback clients only.",
    )
    worker_metrics_dir: str = Field(
        "",
        description="Directory the workers keep their metrics in (Prometheus multiprocess "
        "files; the receiver on the same host serves them); empty: `worker-metrics` beside "
        "the SQLite store.",
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Workers serve their host's metrics on this port too (for a host without "
        "a receiver; the first worker to bind it serves every worker of the host).",
    )
    silence_alert_after_s: float | None = Field(
        None,
        gt=0,
        description="Warn when no verified delivery arrived for this long while the last "
        "self-check passed (default off; e.g. 3600).",
    )
    signature_alert_count: int = Field(
        DEFAULT_SIGNATURE_ALERT_COUNT,
        ge=1,
        description="Warn when more than this many deliveries fail verification within "
        "SIGNATURE_ALERT_WINDOW_S.",
    )
    signature_alert_window_s: float = Field(
        DEFAULT_SIGNATURE_ALERT_WINDOW_S,
        gt=0,
        description="The window of SIGNATURE_ALERT_COUNT.",
    )
    alert_check_interval_s: float = Field(
        DEFAULT_ALERT_CHECK_INTERVAL_S,
        gt=0,
        description="How often the receiver checks its alerts, refreshes the store's metrics "
        "and records delivery statistics for `diagnose`.",
    )
    # -- inspector (issue 11) --
    admin_session_ttl_s: float = Field(
        DEFAULT_ADMIN_SESSION_TTL_S,
        gt=0,
        description="How long an inspector login (the `/admin/` session cookie) lasts.",
    )

    @field_validator("billoget_webhook_secret")
    @classmethod
    def _secrets_decode(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            try:
                parse_secrets(value.get_secret_value())
            except ConfigError as exc:
                raise ValueError(f"BILLOGET_WEBHOOK_SECRET: {exc.message}") from None
        return value

    @field_validator("allowed_sender_ips", "trusted_proxies")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    def sender_networks(self) -> list[IPNetwork]:
        return parse_networks(self.allowed_sender_ips)

    def proxy_networks(self) -> list[IPNetwork]:
        return parse_networks(self.trusted_proxies)

    def webhook_secrets(self) -> list[WebhookSecret]:
        """The decoded secrets; :class:`ConfigError` when none is configured."""
        raw = (
            self.billoget_webhook_secret.get_secret_value() if self.billoget_webhook_secret else ""
        )
        secrets = parse_secrets(raw)
        if not secrets:
            raise ConfigError(
                "BILLOGET_WEBHOOK_SECRET is not set: copy the endpoint's whsec_... secret from "
                "Billoget (or the emulator's --seed output)"
            )
        return secrets

    def worker_metrics_path(self) -> Path | None:
        """WORKER_METRICS_DIR, else beside the SQLite store; None when there is neither."""
        if self.worker_metrics_dir.strip():
            return Path(self.worker_metrics_dir.strip())
        try:
            return self.sqlite_path().parent / WORKER_METRICS_DIRNAME
        except ConfigError:
            return None

    def sqlite_path(self) -> Path:
        """The SQLite file of ``database_url``."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            raise ConfigError(
                f"DATABASE_URL must start with {prefix!r} (only SQLite is supported for now)"
            )
        return Path(self.database_url[len(prefix) :])


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; turn validation errors into one clear line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {msg}" if not msg.startswith(where) else msg) from None
