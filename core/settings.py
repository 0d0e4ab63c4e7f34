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
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError
from core.signing import (
    DEFAULT_SCHEME,
    DEFAULT_TOLERANCE_S,
    SchemeConfig,
    SchemeName,
    SecretEncoding,
    SignatureEncoding,
    WebhookSecret,
    parse_secrets,
    resolve,
)

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
DEFAULT_RELAY_LINGER_S = 0.05
DEFAULT_COMMIT_INLINE_MAX_MS = 2.0
DEFAULT_DATABASE_POOL_MIN_SIZE = 1
DEFAULT_DATABASE_POOL_MAX_SIZE = 10
DEFAULT_DATABASE_POOL_TIMEOUT_S = 5.0
DEFAULT_DATABASE_CONNECT_TIMEOUT_S = 5
DEFAULT_DATABASE_STARTUP_WAIT_S = 30.0
DEFAULT_RETENTION_KEEP_IDS_DAYS = 7.0
DEFAULT_RETENTION_INTERVAL_S = 300.0
STORE_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
DEFAULT_SIGNATURE_ALERT_COUNT = 20
DEFAULT_SIGNATURE_ALERT_WINDOW_S = 300.0
DEFAULT_ALERT_CHECK_INTERVAL_S = 5.0
WORKER_METRICS_DIRNAME = "worker-metrics"
DEFAULT_ADMIN_SESSION_TTL_S = 12 * 3600.0
DEFAULT_REFUSED_KEEP = 20
DEFAULT_MIRROR_FETCH_WINDOW_S = 1.5
DEFAULT_RECONCILE_INTERVAL_S = 6 * 3600.0
DEFAULT_RECONCILE_BUDGET_SHARE = 0.2


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
        repr=False,  # a PostgreSQL URL may hold a password
        description="Event store: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` "
        "or `postgresql://user:password@host:5432/dbname`.",
    )
    billoget_webhook_secret: SecretStr | None = Field(
        None,
        description="One or more secrets, space or comma separated (rotation): `whsec_...` "
        "for Standard Webhooks (see `BILLOGET_SECRET_ENCODING`).",
    )
    billoget_tolerance_s: int = Field(
        DEFAULT_TOLERANCE_S,
        ge=1,
        description="Accepted clock skew of the signed timestamp (`webhook-timestamp`).",
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
    relay_linger_s: float = Field(
        DEFAULT_RELAY_LINGER_S,
        ge=0,
        le=1,
        description="The relay waits this long for more stored events before a Redis round "
        "trip (fewer round trips at low load; the 2xx never waits for the relay).",
    )
    commit_inline_max_ms: float = Field(
        DEFAULT_COMMIT_INLINE_MAX_MS,
        ge=0,
        description="A small batch is committed on the receiver's event loop while the store's "
        "recent commits average under this (SQLite; 0: always on the store-writer thread).",
    )

    # -- PostgreSQL store and retention (issue 10) --
    database_pool_min_size: int = Field(
        DEFAULT_DATABASE_POOL_MIN_SIZE,
        ge=0,
        description="PostgreSQL: connections each process keeps open.",
    )
    database_pool_max_size: int = Field(
        DEFAULT_DATABASE_POOL_MAX_SIZE,
        ge=1,
        description="PostgreSQL: most connections one process opens (receiver: 2-4 is plenty; "
        "workers: their threads + 2).",
    )
    database_pool_timeout_s: float = Field(
        DEFAULT_DATABASE_POOL_TIMEOUT_S,
        gt=0,
        description="PostgreSQL: wait this long for a pooled connection before answering 503.",
    )
    database_connect_timeout_s: int = Field(
        DEFAULT_DATABASE_CONNECT_TIMEOUT_S,
        ge=1,
        description="PostgreSQL: timeout of one connection attempt.",
    )
    database_startup_wait_s: float = Field(
        DEFAULT_DATABASE_STARTUP_WAIT_S,
        ge=0,
        description="At start-up, wait this long for a store that is starting or locked, then "
        "exit 2.",
    )
    database_prepared_statements: bool = Field(
        True,
        description="PostgreSQL: server-side prepared statements; turn off behind PgBouncer "
        "in transaction mode.",
    )
    retention_days: float = Field(
        0,
        ge=0,
        description="The receiver empties bodies of events done for longer than this, in the "
        "background (0: keep everything; see `prune`).",
    )
    retention_keep_ids_days: float = Field(
        DEFAULT_RETENTION_KEEP_IDS_DAYS,
        ge=1,
        description="Done events are deleted only after this (the sender's retry horizon), so "
        "a late retry is still a duplicate.",
    )
    retention_interval_s: float = Field(
        DEFAULT_RETENTION_INTERVAL_S,
        gt=0,
        description="How often the background prune runs (when `RETENTION_DAYS` is set).",
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

    # -- signature schemes (issue 16) --
    billoget_signature_scheme: SchemeName = Field(
        DEFAULT_SCHEME,
        description="How Billoget signs its deliveries (see README, Signature schemes).",
    )
    billoget_signature_header: str | None = Field(
        None,
        description="Signature header (scheme default: `webhook-signature`, else "
        "`X-Billoget-Signature`).",
    )
    billoget_timestamp_header: str | None = Field(
        None,
        description="Timestamp header (standard-webhooks `webhook-timestamp`; hmac-sha256 "
        "`X-Billoget-Timestamp`, read when the signed content has `{timestamp}`).",
    )
    billoget_id_header: str | None = Field(
        None,
        description="Delivery id header (standard-webhooks `webhook-id`; others: none, the "
        "envelope's `metadata.delivery_id`).",
    )
    billoget_signature_encoding: SignatureEncoding | None = Field(
        None, description="`hex` or `base64` digests (stripe-style, hmac-sha256; default `hex`)."
    )
    billoget_signature_prefix: str | None = Field(
        None, description="Text before each digest, e.g. `sha256=` or `v1,` (hmac-sha256)."
    )
    billoget_signed_content: str | None = Field(
        None,
        description="What hmac-sha256 signs: `{body}` (default), `{timestamp}.{body}`, "
        "`{id}.{timestamp}.{body}`.",
    )
    billoget_secret_encoding: SecretEncoding | None = Field(
        None,
        description="How a secret becomes the key: `base64` (`whsec_` + base64, the "
        "standard-webhooks default) or `text` (its bytes as written, the others' default).",
    )
    billoget_refused_keep: int = Field(
        DEFAULT_REFUSED_KEEP,
        ge=0,
        le=1000,
        description="Refused deliveries the receiver keeps in memory for `diagnose "
        "--signatures` (0: none).",
    )

    # -- API budget: payload-first mirror, fetch planning, reconciliation (issue 13) --
    mirror_source: Literal["payload", "api"] = Field(
        "payload",
        description="`payload`: an event whose data is a complete resource is mirrored from it "
        "(no API call); `api`: every event fetches the entity (the old behaviour).",
    )
    mirror_fetch_window_s: float = Field(
        DEFAULT_MIRROR_FETCH_WINDOW_S,
        ge=0,
        le=10,
        description="Fetches needed within this window are planned together, per family: one "
        "GET per entity or a scan of the list, whichever costs fewer requests (0: fetch at once).",
    )
    reconcile_interval_s: float = Field(
        DEFAULT_RECONCILE_INTERVAL_S,
        ge=0,
        description="How often the workers walk the API's lists to repair the mirror and replay "
        "missed webhooks (0: never; `billoget-hooks reconcile` runs a pass by hand).",
    )
    reconcile_budget_share: float = Field(
        DEFAULT_RECONCILE_BUDGET_SHARE,
        gt=0,
        le=1,
        description="Share of the hourly API budget reconciliation may spend.",
    )

    @model_validator(mode="after")
    def _signature_settings_fit(self) -> Settings:
        """The scheme's settings, then the secrets as that scheme reads them."""
        try:
            config = self.signature_config()
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        raw = self._secret_text()
        if raw.strip():
            try:
                self._parse_secrets(raw, config)
            except ConfigError as exc:
                raise ValueError(f"BILLOGET_WEBHOOK_SECRET: {exc.message}") from None
        return self

    @field_validator("allowed_sender_ips", "trusted_proxies")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)
        return value

    def sender_networks(self) -> list[IPNetwork]:
        return parse_networks(self.allowed_sender_ips)

    def proxy_networks(self) -> list[IPNetwork]:
        return parse_networks(self.trusted_proxies)

    def signature_config(self) -> SchemeConfig:
        """The signature scheme and its choices; :class:`ConfigError` names every mistake."""
        return resolve(
            self.billoget_signature_scheme,
            signature_header=self.billoget_signature_header,
            timestamp_header=self.billoget_timestamp_header,
            id_header=self.billoget_id_header,
            encoding=self.billoget_signature_encoding,
            prefix=self.billoget_signature_prefix,
            signed_content=self.billoget_signed_content,
            key_encoding=self.billoget_secret_encoding,
        )

    def _secret_text(self) -> str:
        secret = self.billoget_webhook_secret
        return secret.get_secret_value() if secret else ""

    @staticmethod
    def _parse_secrets(raw: str, config: SchemeConfig) -> list[WebhookSecret]:
        # ``whsec_`` is required only where the scheme's spec has it (Standard Webhooks)
        return parse_secrets(
            raw,
            encoding=config.key_encoding,
            require_prefix=config.scheme == "standard-webhooks",
        )

    def webhook_secrets(self) -> list[WebhookSecret]:
        """The secrets as the scheme reads them; :class:`ConfigError` when none is configured."""
        secrets = self._parse_secrets(self._secret_text(), self.signature_config())
        if not secrets:
            raise ConfigError(
                "BILLOGET_WEBHOOK_SECRET is not set: copy the endpoint's whsec_... secret from "
                "Billoget (or the emulator's --seed output)"
            )
        return secrets

    def store_backend(self) -> Literal["sqlite", "postgresql"]:
        """``sqlite`` or ``postgresql``, from ``database_url``'s scheme; ConfigError otherwise."""
        scheme = self.database_url.partition("://")[0].lower()
        backend = STORE_SCHEMES.get(scheme)
        if backend is None or "://" not in self.database_url:
            raise ConfigError(
                f"DATABASE_URL: unsupported scheme {scheme!r}: use sqlite:///path.db or "
                "postgresql://user:password@host:5432/dbname"
            )
        return "sqlite" if backend == "sqlite" else "postgresql"

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
            raise ConfigError(f"DATABASE_URL must start with {prefix!r} for a SQLite store")
        return Path(self.database_url[len(prefix) :])


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; turn validation errors into one clear line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError("\n".join(_error_lines(exc))) from None


def _error_lines(exc: Any) -> list[str]:
    """One line per mistake, each naming its setting."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]).upper()
        for msg in error["msg"].removeprefix("Value error, ").splitlines():
            lines.append(f"{where}: {msg}" if where and not msg.startswith(where) else msg)
    return lines
