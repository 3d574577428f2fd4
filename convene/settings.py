"""One settings class for the worker, the API and the CLI, read from the environment (``CONVENE_*``) or ``.env``.

Where Temporal runs (address, namespace, TLS, API key) is configuration, never code:
the same worker runs on the embedded dev server and on a Temporal cluster.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_", env_file=".env", extra="ignore")

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "convene"
    temporal_tls: bool = False
    temporal_tls_server_name: str | None = None
    temporal_tls_ca_cert: Path | None = None
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_api_key: SecretStr | None = None

    # Worker tuning
    max_concurrent_activities: int = 100
    max_concurrent_workflow_tasks: int = 100
    max_cached_workflows: int = 2000

    # Where definitions are read from (the shipped ones by default)
    definitions_dir: Path | None = None

    # Notifications
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    mail_from: str = "Convene <convene@localhost>"
    mail_dir: Path | None = None  # no SMTP host: write emails here as .eml files (the dev stack: var/mail)
    webhook_secret: SecretStr = SecretStr("change-me")
    # Rotating: every secret in use, newest first (JSON list); when set, it replaces webhook_secret for
    # signing (activities/webhook_signing.py). Each is "whsec_<base64>" or text (its UTF-8 bytes).
    webhook_secrets: list[SecretStr] = []
    webhook_timeout_seconds: float = 10.0
    # Chat rooms by name (JSON: {"role:finance": "feishu://...", "event:conf-1": "slack://...", "*": "..."});
    # each is a credential, so it lives here and never in a definition (activities/chat.py).
    chat_urls: dict[str, SecretStr] = {}

    # Personal links (an attendee's or speaker's own page, their ticket): signed with this secret
    # (default: derived from the webhook secret), opened at public_url (what the emails link to).
    link_secret: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    link_days_after_end: float = 30.0  # links work until this long after the event ends (the survey)

    # The database: what grows with people (roster, survey, deliveries, the whole audit).
    # A SQLite file beside the dev server's by default; PostgreSQL at scale
    # (postgresql+asyncpg://user:password@host/db).
    database_url: str = "sqlite+aiosqlite:///var/convene.db"
    database_pool_size: int = 10
    invitations_per_second: float = 50.0  # the pace of invitation sends (SMTP relays limit senders)

    # Archive
    archive_root: Path = Path("var/archive")

    # Logs
    log_level: str = "INFO"
    log_json: bool = True

    # Metrics and traces (README "Metrics and traces")
    worker_metrics_address: str | None = None
    """host:port where a worker serves Temporal's SDK metrics and Convene's worker counters (Prometheus text
    at /metrics), e.g. ``127.0.0.1:9464``; unset: none. One per worker process (two on one host need two ports)."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP collector base URL (e.g. ``http://localhost:4318``) to send traces to; unset: tracing is off."""
    otlp_service_name: str = "convene"


def link_key(settings: Settings) -> bytes:
    """The key personal links and tickets are derived from (``link_secret``, else one derived from the
    webhook secret, so a deployment that set one has working links without another setting)."""
    import hashlib

    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().encode()
    return hashlib.sha256(b"convene-links|" + settings.webhook_secret.get_secret_value().encode()).digest()


@cache
def get_settings() -> Settings:
    return Settings()
