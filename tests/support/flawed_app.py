"""Apps built to have one instrumentation problem each, with the OpenTelemetry SDK and its real
instrumentations, exporting over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT.

usage: flawed_app.py PROBLEM -- unknown_service, no_version, orphan, client_root, legacy_mix.
Apart from its problem, each app is correct: a named, versioned service, whole server traces."""

import sys

import requests
from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

problem = sys.argv[1]
if problem == "unknown_service":
    # The SDK's default resource: no OTEL_SERVICE_NAME, no service.name.
    resource = Resource.create({})
elif problem == "no_version":
    resource = Resource.create({"service.name": "flawed-" + problem})
else:
    resource = Resource.create({"service.name": "flawed-" + problem, "service.version": "1.4.2"})
provider = TracerProvider(resource=resource)
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("flawed_app")

app = Flask(__name__)
FlaskInstrumentor().instrument_app(app)


@app.route("/api/activities/home")
def home():
    with tracer.start_as_current_span("home_activities"):
        if problem == "orphan":
            # Started and never ended: never exported, while its child is.
            parent = tracer.start_span("load activities")
            with trace.use_span(parent, end_on_exit=False):
                with tracer.start_as_current_span("SELECT activities", kind=trace.SpanKind.CLIENT):
                    pass
        if problem == "legacy_mix":
            # Flask's instrumentation writes http.method; this hand-made span the stable names.
            with tracer.start_as_current_span("GET payments", kind=trace.SpanKind.CLIENT) as span:
                span.set_attribute("http.request.method", "GET")
                span.set_attribute("url.full", "http://payments.internal/api")
        return [{"message": "Cloud is fun!"}]


if problem == "client_root":
    # An outgoing call made outside any request: a CLIENT span with no SERVER span around it.
    RequestsInstrumentor().instrument()
    try:
        requests.get(sys.argv[2], timeout=5)
    except requests.RequestException:
        pass
else:
    response = app.test_client().get("/api/activities/home")
    assert response.status_code == 200, response.status_code
provider.shutdown()
