"""The comparison for `send-test --to otlp`: the recipe's own OpenTelemetry SDK and OTLP/HTTP
exporter sending the same three-span trace (SERVER -> INTERNAL -> CLIENT) to ENDPOINT."""

import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

endpoint = sys.argv[1].rstrip("/") + "/v1/traces"
provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
tracer = provider.get_tracer("bench")
with tracer.start_as_current_span("GET /api/activities/home", kind=trace.SpanKind.SERVER) as root:
    root.set_attribute("http.route", "/api/activities/home")
    root.set_attribute("http.response.status_code", 200)
    with tracer.start_as_current_span("home_activities"):
        with tracer.start_as_current_span("SELECT cruddur.activities", kind=trace.SpanKind.CLIENT) as db:
            db.set_attribute("db.system", "postgresql")
provider.shutdown()
