"""Send a small trace with the recipe's OpenTelemetry SDK and its OTLP exporter.

usage: otel_client.py ENDPOINT SERVICE [http|grpc [gzip]] -- ENDPOINT is a base URL; over HTTP
/v1/traces is appended, over gRPC it is used as it is."""

import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

protocol = sys.argv[3] if len(sys.argv) > 3 else "http"
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    gzip = len(sys.argv) > 4 and sys.argv[4] == "gzip"
    exporter = OTLPSpanExporter(
        endpoint=sys.argv[1],
        insecure=True,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
    )
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=sys.argv[1].rstrip("/") + "/v1/traces")

provider = TracerProvider(resource=Resource.create({"service.name": sys.argv[2]}))
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("otel_client")
with tracer.start_as_current_span("checkout", kind=trace.SpanKind.SERVER) as root:
    root.set_attribute("http.route", "/checkout")
    with tracer.start_as_current_span("charge card", kind=trace.SpanKind.CLIENT) as child:
        child.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
provider.shutdown()
