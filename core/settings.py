"""One typed ``Settings`` for every process, read from the environment (and ``.env``).

Built once in an entry point and passed down; nothing else reads ``os.environ``.
Secrets are ``SecretStr``: their repr and str are redacted.
"""

from __future__ import annotations

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
        None, description="Public URL Billoget delivers to, e.g. https://hooks.example.com/webhooks/billoget."
    )
    billoget_handlers: str = Field(
        "", description="Extra handler modules to import, comma separated (see README)."
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for admin routes; without it they answer loopback only."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of every process."
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

    def webhook_secrets(self) -> list[WebhookSecret]:
        """The decoded secrets; :class:`ConfigError` when none is configured."""
        raw = self.billoget_webhook_secret.get_secret_value() if self.billoget_webhook_secret else ""
        secrets = parse_secrets(raw)
        if not secrets:
            raise ConfigError(
                "BILLOGET_WEBHOOK_SECRET is not set: copy the endpoint's whsec_... secret from "
                "Billoget (or the emulator's --seed output)"
            )
        return secrets

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
