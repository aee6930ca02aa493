"""An app with no OpenTelemetry setup of its own, as `opentelemetry-instrument` expects one:
the API only. The distro configures the SDK from its defaults (OTLP over gRPC to localhost:4317).

usage: opentelemetry-instrument python instrumented_app.py"""

from opentelemetry import trace

tracer = trace.get_tracer("instrumented_app")
with tracer.start_as_current_span("GET /api/activities/home", kind=trace.SpanKind.SERVER) as root:
    root.set_attribute("http.route", "/api/activities/home")
    with tracer.start_as_current_span("home_activities"):
        pass
