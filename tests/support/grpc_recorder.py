"""An OTLP/gRPC endpoint made with grpcio and the OpenTelemetry protos (no tracectl code).

usage: grpc_recorder.py [DIR]  -- with DIR, TLS with a fresh CA written to DIR/cert.pem (as
tls_server.py makes it). Prints the port, then one JSON line per Export call: the call's metadata,
the service names and span names it carried, and the request's grpc-encoding."""

import json
import sys
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from testca import make_certificates


class Recorder(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        metadata = {k: v for k, v in context.invocation_metadata()}
        services, names = [], []
        for resource_spans in request.resource_spans:
            for kv in resource_spans.resource.attributes:
                if kv.key == "service.name":
                    services.append(kv.value.string_value)
            for scope in resource_spans.scope_spans:
                names.extend(span.name for span in scope.spans)
        print(json.dumps({"metadata": metadata, "services": services, "names": names}), flush=True)
        return trace_service_pb2.ExportTraceServiceResponse()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Recorder(), server)
if len(sys.argv) > 1:
    _, chain, key = make_certificates(sys.argv[1])
    with open(chain, "rb") as c, open(key, "rb") as k:
        credentials = grpc.ssl_server_credentials([(k.read(), c.read())])
    port = server.add_secure_port("127.0.0.1:0", credentials)
else:
    port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
server.wait_for_termination()
