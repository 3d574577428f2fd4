"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (Temporal answers too)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import State
from api.errors import Problem, problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no outside call)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Temporal is not reachable"}})
async def readyz(app: State) -> JSONResponse:
    """Temporal's health check answers SERVING; 503 with Retry-After otherwise."""
    timeout = timedelta(seconds=app.settings.health_timeout_seconds)
    try:
        client = await app.client()
        serving = await client.service_client.check_health(timeout=timeout)
    except Exception:  # noqa: BLE001 - whatever the failure (unavailable, refused, timed out), not ready
        serving = False
    if serving:
        return JSONResponse({"status": "ready", "temporal": "serving"})
    return problem_response(Problem(503, "Temporal is not reachable",
                                    headers={"Retry-After": str(app.settings.retry_after_seconds)}))
