"""The API's settings: everything the worker and CLI read, plus who may call the API.

An extension of :class:`convene.settings.Settings` (same ``CONVENE_`` prefix, same ``.env``),
so one object configures the Temporal connection and the HTTP edge.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from api.grants import GrantBook
from convene.settings import Settings


class ApiSettings(Settings):
    """``CONVENE_TOKENS_FILE`` / ``CONVENE_TOKENS`` say who may call; the rest tunes the edge."""

    tokens_file: Path | None = Field(
        default=None, description="YAML or JSON file of principals with SHA-256 hashes of their bearer tokens."
    )
    tokens: SecretStr | None = Field(
        default=None, description="The same content as the tokens file, as JSON in one environment variable."
    )
    grants: GrantBook = Field(
        default_factory=GrantBook,
        description="JSON: what principals (by id) and organisations may read and administer besides their "
        "teams and the tokens file's grants (api/grants.py).",
    )
    creator_roles: list[str] = Field(
        default_factory=list,
        description="Roles that may start events of any kind, besides the kind's owner role.",
    )
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After sent with 503 answers.")
    reconnect_interval_seconds: float = Field(
        default=2.0, ge=0, description="How often a request may retry connecting to Temporal after a failure."
    )
    temporal_rpc_timeout_seconds: float = Field(
        default=10.0, gt=0,
        description="The longest the API waits on Temporal for one request (a state read, an act with its "
        "retries). Past it an act answers 503 with Retry-After and its key stays pending: ask "
        "GET /events/{id}/acts/{key} or resend it.",
    )
    idempotency_window_hours: float = Field(
        default=24.0, gt=0,
        description="How long the API keeps an act's Idempotency-Key with its answer (a repeat within it is "
        "answered the same; after it the key is forgotten).",
    )
    default_page_size: int = Field(default=50, ge=1, le=1000)
    max_page_size: int = Field(default=500, ge=1, le=1000)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    event_cache_seconds: float = Field(
        default=60.0, ge=0,
        description="How long an event's details (kind, team) are kept for checking attendee acts, so the door's "
        "check-ins never ask the workflow. Neither changes after the start; 0 reads them every time.",
    )
    import_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="Largest CSV an import accepts.")
    public_requests_per_minute: int = Field(
        default=60, ge=1, description="Personal pages (/p/...) one client address may open or answer a minute.")
    metrics_enabled: bool = Field(default=True, description="Serve `GET /metrics` (false: 404 there).")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `GET /metrics` wants `Authorization: Bearer <token>` (Prometheus' `authorization`).",
    )
    metrics_cache_seconds: float = Field(
        default=15.0, ge=0, description="How long the events-by-stage count on /metrics is reused between scrapes.",
    )
    # Sign-in for people through an OIDC identity provider (api/signin.py); off without an issuer.
    oidc_issuer: str | None = Field(default=None, description="The provider's issuer URL (discovery is read from "
                                    "<issuer>/.well-known/openid-configuration).")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile email"
    oidc_redirect_url: str | None = Field(default=None, description="Registered at the provider; default "
                                          "<this API>/auth/callback as the request reached it.")
    oidc_id_claim: str = Field(default="sub", description="The claim that is the person's id (as teams name them), "
                               "e.g. preferred_username.")
    oidc_roles_claim: str = Field(default="groups", description="The claim listing the person's groups or roles.")
    oidc_role_map: dict[str, str] = Field(default_factory=dict, description="Claim value -> role (JSON).")
    oidc_role_map_only: bool = Field(default=False, description="Only mapped values give roles (else an unmapped "
                                     "value that looks like a role is taken as it is).")
    oidc_organisation_claim: str | None = None
    session_secret: SecretStr | None = Field(default=None, description="Signs session cookies (default: derived "
                                             "from the webhook secret).")
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    session_cookie_secure: bool = Field(default=True, description="Send session cookies over HTTPS only "
                                        "(browsers treat http://localhost as secure).")
    dev_sign_in: Path | None = Field(
        default=None,
        description="Local dev stack only: a JSON file of plaintext tokens by person id (`convene dev` writes "
        "var/dev-tokens.json). The sign-in page then offers one button per person, so anyone who can reach "
        "the API can sign in as them. Never set it on a shared deployment.",
    )


def api_settings(settings: Settings) -> ApiSettings:
    """The API settings for `settings`: itself if it already is one, else its values plus the API's from the env."""
    if isinstance(settings, ApiSettings):
        return settings
    return ApiSettings(**{name: getattr(settings, name) for name in Settings.model_fields})
