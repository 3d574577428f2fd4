"""Connecting to Temporal from settings (address, namespace, TLS, API key): the ground floor's one client
function. What is said to an event once connected (start it, act, read it, list events) is in
:mod:`workflows.client`, a floor up, beside the workflow it talks to."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client, Interceptor, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from convene.settings import Settings


def _tls(settings: Settings) -> TLSConfig | bool:
    if not settings.temporal_tls:
        return False
    read = lambda p: p.read_bytes() if p else None  # noqa: E731
    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca_cert),
        client_cert=read(settings.temporal_tls_client_cert),
        client_private_key=read(settings.temporal_tls_client_key),
        domain=settings.temporal_tls_server_name,
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None,
                  interceptors: Sequence[Interceptor] = ()) -> Client:
    """A client for the configured cluster (dev server, self-hosted or cloud).

    Args:
        runtime: the Temporal runtime (a worker's serves its metrics: :func:`convene.telemetry.worker_runtime`).
        interceptors: e.g. the tracing interceptor (:func:`convene.telemetry.tracing_interceptor`); workers
            built on this client use them too.
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=True if api_key and not settings.temporal_tls else _tls(settings),
        api_key=api_key,
        data_converter=pydantic_data_converter,
        runtime=runtime,
        interceptors=interceptors,
    )


