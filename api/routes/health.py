"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (Temporal and the database answer too)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import AppState, State
from api.errors import Problem, problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no outside call)."""
    return {"status": "ok"}


async def _database_answers(app: AppState) -> bool:
    try:
        async with asyncio.timeout(app.settings.health_timeout_seconds):
            await app.store_ready()
            async with app.database.read() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - whatever the failure (refused, locked, timed out), not ready
        return False
    return True


@router.get("/readyz", responses={503: {"description": "Temporal or the database is not reachable"}})
async def readyz(app: State) -> JSONResponse:
    """Temporal's health check answers SERVING and the database answers a query; 503 with Retry-After otherwise."""
    timeout = timedelta(seconds=app.settings.health_timeout_seconds)
    try:
        client = await app.client()
        serving = await client.service_client.check_health(timeout=timeout)
    except Exception:  # noqa: BLE001 - whatever the failure (unavailable, refused, timed out), not ready
        serving = False
    database = await _database_answers(app)
    if serving and database:
        return JSONResponse({"status": "ready", "temporal": "serving", "database": "ok"})
    down = " and ".join(name for name, up in (("Temporal", serving), ("the database", database)) if not up)
    return problem_response(Problem(503, f"{down} {'is' if ' and ' not in down else 'are'} not reachable",
                                    headers={"Retry-After": str(app.settings.retry_after_seconds)}))
