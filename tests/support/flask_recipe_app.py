"""The recipe's Flask app: OpenTelemetry with BatchSpanProcessor(OTLPSpanExporter()), configured
only by the OTEL_* environment, plus the Flask and requests instrumentations.

usage: flask_recipe_app.py PORT"""

import sys

from flask import Flask
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

app = Flask(__name__)
FlaskInstrumentor().instrument_app(app)
RequestsInstrumentor().instrument()


@app.route("/api/activities/home")
def home():
    with trace.get_tracer(__name__).start_as_current_span("home_activities"):
        return [{"message": "Cloud is fun!"}]


app.run(host="127.0.0.1", port=int(sys.argv[1]), use_reloader=False)
