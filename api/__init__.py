"""The HTTP API: routes, dependencies, authentication and the error mapping.

``create_app(settings)`` builds it; ``uvicorn --factory api.main:app`` serves it;
``python -m api.auth hash <token>`` prints a token's stored form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.main import create_app
    from api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `python -m api.auth` runs without loading the whole app first.
    if name == "create_app":
        from api.main import create_app

        return create_app
    if name == "ApiSettings":
        from api.settings import ApiSettings

        return ApiSettings
    raise AttributeError(name)
