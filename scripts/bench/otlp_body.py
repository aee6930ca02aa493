"""Write one fixed OTLP export of 30 spans (one trace: a server span, its handler, 28 queries), as
the independent load tools post it: OUT.pb (protobuf, for OTLP/HTTP) and OUT.grpc (the same message
with gRPC's 5-byte prefix, for OTLP/gRPC).

usage: otlp_body.py OUT"""

import struct
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

request = ExportTraceServiceRequest()
resource_spans = request.resource_spans.add()
resource_spans.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="bench")))
resource_spans.resource.attributes.append(KeyValue(key="service.version", value=AnyValue(string_value="1.0")))
spans = resource_spans.scope_spans.add().spans
trace_id = bytes.fromhex("5b8efff798038103d269b633813fc60c")
start = 1_700_000_000_000_000_000
for i in range(30):
    span = spans.add()
    span.trace_id = trace_id
    span.span_id = struct.pack(">Q", i + 1)
    if i > 0:
        span.parent_span_id = struct.pack(">Q", 1 if i > 1 else 1)
    span.name = "GET /api/activities/home" if i == 0 else ("home_activities" if i == 1 else f"SELECT activities {i}")
    span.kind = 2 if i == 0 else (1 if i == 1 else 3)
    span.start_time_unix_nano = start + i * 1_000_000
    span.end_time_unix_nano = start + (i + 1) * 1_000_000
    span.attributes.append(KeyValue(key="db.system", value=AnyValue(string_value="postgresql")))
    span.attributes.append(KeyValue(key="db.query.text", value=AnyValue(string_value="SELECT uuid, message FROM activities")))
body = request.SerializeToString()
with open(sys.argv[1] + ".pb", "wb") as f:
    f.write(body)
with open(sys.argv[1] + ".grpc", "wb") as f:
    f.write(b"\0" + struct.pack(">I", len(body)) + body)
