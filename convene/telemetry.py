"""The worker's metrics endpoint and OpenTelemetry tracing, both from settings.

- :func:`worker_runtime`: a Temporal :class:`~temporalio.runtime.Runtime` that serves the SDK's metrics
  (and :mod:`convene.metrics`' worker counters) in Prometheus text on ``CONVENE_WORKER_METRICS_ADDRESS``.
- :func:`tracer_provider`: an OpenTelemetry tracer provider exporting to ``CONVENE_OTLP_ENDPOINT`` (OTLP
  over HTTP), or ``None`` when it is unset. Nothing of the OpenTelemetry SDK is imported then: tracing
  off costs nothing.
- :func:`tracing_interceptor`: Temporal's ``TracingInterceptor`` with one change, so that one HTTP act
  reads as one trace: an update's span is a child of the caller's span (the SDK only *links* it, under the
  workflow's start), and the activities started in the update's workflow task are children of the update's
  span. Spans stay the SDK's completed, zero-length workflow spans, made only when not replaying; nothing
  changes the workflow's commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from convene.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from temporalio.contrib.opentelemetry import TracingInterceptor


def worker_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving Prometheus metrics on ``settings.worker_metrics_address`` (``host:port``), or ``None``.

    Raises:
        ValueError: the address is not ``host:port``.
        RuntimeError: the port cannot be bound (in use: give each worker on a host its own).
    """
    address = (settings.worker_metrics_address or "").strip()
    if not address:
        return None
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"CONVENE_WORKER_METRICS_ADDRESS must be host:port, not {address!r}")
    # Counters as Prometheus names them (`_total`), like the API's; durations stay Temporal's milliseconds.
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address,
                                                                      counters_total_suffix=True)))


def tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """A tracer provider sending spans of `service` (``api``, ``worker``) in batches to the OTLP endpoint.

    ``settings.otlp_endpoint`` is the collector's base URL (``http://localhost:4318``); spans go to its
    ``/v1/traces``. ``None`` when no endpoint is set. Call ``shutdown()`` on it at exit to send the last batch.
    """
    endpoint = (settings.otlp_endpoint or "").strip().rstrip("/")
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    provider = TracerProvider(resource=Resource.create({"service.name": f"{settings.otlp_service_name}-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracing_interceptor(provider: TracerProvider | None) -> TracingInterceptor | None:
    """The interceptor for a client (its workers inherit it), tracing with `provider`; ``None`` without one."""
    if provider is None:
        return None
    return _interceptor_class()(tracer=provider.get_tracer("convene.temporal"))


@cache
def _interceptor_class() -> type[TracingInterceptor]:
    """Defined on first use so that importing this module never imports OpenTelemetry."""
    import opentelemetry.context
    import opentelemetry.trace
    import temporalio.worker
    import temporalio.workflow
    from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

    class _Headers:
        """Where ``_completed_span`` leaves the context of the span it made (as outbound headers)."""

        def __init__(self) -> None:
            self.headers: Mapping[str, Any] = {}

    class ActTracingWorkflowInbound(TracingWorkflowInboundInterceptor):
        """The SDK's workflow tracing, with an update's span under its caller and over what it starts."""

        def __init__(self, next: temporalio.worker.WorkflowInboundInterceptor) -> None:
            super().__init__(next)
            self._act: tuple[opentelemetry.context.Context, int] | None = None

        async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
            header = input.headers.get(self.header_key)
            if not header:
                return await super().handle_update_handler(input)
            carrier = self.payload_converter.from_payloads([header])[0]
            caller = self._set_on_context(self.text_map_propagator.extract(carrier))
            made = _Headers()
            token = opentelemetry.context.attach(caller)
            try:  # a completed span, as the SDK makes every workflow span (none while replaying)
                self._completed_span(f"HandleUpdate:{input.update}", add_to_outbound=made,  # type: ignore[arg-type]
                                     link_context_carrier=self._load_workflow_context_carrier(),
                                     kind=opentelemetry.trace.SpanKind.SERVER)
            finally:
                opentelemetry.context.detach(token)
            context = caller
            if self.header_key in made.headers:
                update_span = self.payload_converter.from_payloads([made.headers[self.header_key]])[0]
                context = self._set_on_context(self.text_map_propagator.extract(update_span))
                # What this workflow task starts next (the loop wakes in the same task) is the act's doing.
                self._act = (context, temporalio.workflow.time_ns())
            token = opentelemetry.context.attach(context)
            try:  # skip the SDK's own HandleUpdate span: this one replaces it
                return await super(TracingWorkflowInboundInterceptor, self).handle_update_handler(input)
            finally:
                opentelemetry.context.detach(token)

        def _completed_span(self, span_name: str, **kwargs: Any) -> None:
            act = self._act
            if act is None or not span_name.startswith("StartActivity:"):
                return super()._completed_span(span_name, **kwargs)
            if act[1] != temporalio.workflow.time_ns():  # a later workflow task: no longer the act's
                self._act = None
                return super()._completed_span(span_name, **kwargs)
            token = opentelemetry.context.attach(act[0])
            try:
                return super()._completed_span(span_name, **kwargs)
            finally:
                opentelemetry.context.detach(token)

    class ActTracingInterceptor(TracingInterceptor):
        def workflow_interceptor_class(
            self, input: temporalio.worker.WorkflowInterceptorClassInput
        ) -> type[TracingWorkflowInboundInterceptor]:
            super().workflow_interceptor_class(input)  # registers the span-making extern function
            return ActTracingWorkflowInbound

    return ActTracingInterceptor
