"""A Flask app with the recipe's OpenTelemetry setup, run with the debug reloader on (the mistake):
every change to this file restarts the app in a new process, with a new service.instance.id.

usage: reloader_app.py PORT (OTEL_* configure the exporter)"""

import sys

from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

app = Flask(__name__)
FlaskInstrumentor().instrument_app(app)


@app.route("/api/activities/home")
def home():
    with trace.get_tracer(__name__).start_as_current_span("home_activities"):
        return [{"message": "Cloud is fun!"}]


app.run(host="127.0.0.1", port=int(sys.argv[1]), debug=True)
