"""Telemetry from settings, without a server: what is off by default, and a bad address said plainly."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading

import pytest

from convene.settings import Settings
from convene.telemetry import tracer_provider, tracing_interceptor, worker_runtime


def test_without_settings_there_is_no_worker_endpoint_and_no_tracing():
    """Unset, a worker serves no metrics and nothing is traced (no provider, no interceptor)."""
    settings = Settings()
    assert worker_runtime(settings) is None
    assert tracer_provider(settings, "worker") is None
    assert tracing_interceptor(None) is None


@pytest.mark.parametrize("address", ["9464", "localhost", "localhost:port", ":9464"])
def test_a_worker_metrics_address_that_is_not_host_port_is_refused(address: str):
    """CONVENE_WORKER_METRICS_ADDRESS must be host:port; anything else is a clear ValueError."""
    with pytest.raises(ValueError, match="host:port"):
        worker_runtime(Settings(worker_metrics_address=address))


def test_tracing_off_never_imports_the_opentelemetry_sdk():
    """With no OTLP endpoint the API and the worker start without importing the OpenTelemetry SDK."""
    code = ("import sys, api.main, worker; api.main.create_app(); "
            "print(any(m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "CONVENE_OTLP_ENDPOINT": ""})
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_an_otlp_endpoint_gets_the_spans_at_its_traces_path():
    """CONVENE_OTLP_ENDPOINT is a base URL: spans are POSTed to its /v1/traces (OTLP protobuf), as service
    ``<name>-<process>`` (a real HTTP receiver on loopback)."""
    received: list[tuple[str, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    provider = tracer_provider(Settings(otlp_endpoint=f"http://127.0.0.1:{server.server_port}/"), "api")
    assert provider is not None
    try:
        with provider.get_tracer("test").start_as_current_span("one request"):
            pass
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()
        server.shutdown()
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    assert [path for path, _ in received] == ["/v1/traces"]
    sent = ExportTraceServiceRequest.FromString(received[0][1])
    spans = [span.name for rs in sent.resource_spans for ss in rs.scope_spans for span in ss.spans]
    services = {a.value.string_value for rs in sent.resource_spans for a in rs.resource.attributes
                if a.key == "service.name"}
    assert spans == ["one request"] and services == {"convene-api"}
