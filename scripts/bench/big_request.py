"""Write one OTLP/JSON export request carrying TRACES traces of 3 spans each to FILE.

usage: big_request.py FILE [TRACES]"""

import json
import sys

path = sys.argv[1]
traces = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
spans = []
for t in range(traces):
    trace_id = f"{t + 1:032x}"
    root = f"{3 * t + 1:016x}"
    for k, (name, parent) in enumerate([("GET /api/activities/home", None),
                                        ("home_activities", root),
                                        ("SELECT cruddur.activities", f"{3 * t + 2:016x}")]):
        span = {"traceId": trace_id, "spanId": f"{3 * t + 1 + k:016x}", "name": name, "kind": 2,
                "startTimeUnixNano": str(1_000_000 * (k + 1)), "endTimeUnixNano": str(9_000_000)}
        if parent:
            span["parentSpanId"] = parent
        spans.append(span)
resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "big"}}]}
with open(path, "w") as f:
    json.dump({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}, f)
