"""Send a small trace with the recipe's OpenTelemetry SDK and OTLP/HTTP exporter.

usage: otel_client.py ENDPOINT SERVICE -- ENDPOINT is a base URL; /v1/traces is appended."""

import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": sys.argv[2]}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sys.argv[1].rstrip("/") + "/v1/traces")))
tracer = provider.get_tracer("otel_client")
with tracer.start_as_current_span("checkout", kind=trace.SpanKind.SERVER) as root:
    root.set_attribute("http.route", "/checkout")
    with tracer.start_as_current_span("charge card", kind=trace.SpanKind.CLIENT) as child:
        child.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
provider.shutdown()
