"""A loopback stand-in for X-Ray with Transaction Search, which moto does not implement.

Written from the AWS X-Ray API reference (REST-JSON, every operation a POST to /<Operation>):
  GetTraceSegmentDestination     {}                         -> {Destination, Status}
  UpdateTraceSegmentDestination  {Destination}              -> {Destination, Status: PENDING}
  StartTraceRetrieval            {TraceIds, StartTime, EndTime} -> {RetrievalToken}
  PutTraceSegments (/TraceSegments) {TraceSegmentDocuments}   -> {UnprocessedTraceSegments}
  ListRetrievedTraces            {RetrievalToken, TraceFormat, NextToken}
                                 -> {RetrievalStatus, TraceFormat, Traces: [{Id, Duration, Spans:
                                    [{Id, Document}]}], NextToken}; empty until COMPLETE
and X-Ray's OTLP endpoint (POST /v1/traces, protobuf), which answers 400 "The OTLP API is
supported with CloudWatch Logs as a Trace Segment Destination" unless the destination is
CloudWatchLogs, and records the spans it is sent so that retrievals find exactly those.
Errors have AWS's REST-JSON shape: status, `x-amzn-ErrorType` header, {"message"} body. Every
request's SigV4 signature is checked with botocore's signer (xray_otlp_endpoint.verify).

usage: xray_api_fake.py ACCESS_KEY_ID SECRET_ACCESS_KEY REGION [options], see --help.
STS GetCallerIdentity answers account 123456789012, unsigned-checked (it only names the account).
The first line printed is the port; then one JSON line per request:
{"op", "valid", "reason", "status", "request", "spans": [{"trace_id", "span_id", "name"}]}.
"""

import argparse
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xray_otlp_endpoint import verify  # noqa: E402

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

parser = argparse.ArgumentParser()
parser.add_argument("access_key")
parser.add_argument("secret_key")
parser.add_argument("region")
parser.add_argument("--token", default=None, help="session token the client must send")
parser.add_argument("--destination", default="CloudWatchLogs", choices=["XRay", "CloudWatchLogs"])
parser.add_argument("--status", default="ACTIVE", choices=["ACTIVE", "PENDING"])
parser.add_argument(
    "--complete-after",
    type=int,
    default=2,
    help="ListRetrievedTraces calls answered SCHEDULED/RUNNING before COMPLETE; -1: never",
)
parser.add_argument("--page-size", type=int, default=100, help="spans per ListRetrievedTraces page")
parser.add_argument(
    "--deny",
    action="append",
    default=[],
    help="operation answered 403 AccessDeniedException (repeatable; OTLP for /v1/traces)",
)
parser.add_argument(
    "--hang", action="append", default=[], help="operation that never answers (repeatable)"
)
parser.add_argument(
    "--endless-pages",
    action="store_true",
    help="a COMPLETE retrieval always has another (empty) page",
)
parser.add_argument(
    "--throttle",
    type=int,
    default=0,
    help="the first N StartTraceRetrieval and ListRetrievedTraces calls answer ThrottlingException",
)
ARGS = parser.parse_args()
CREDENTIALS = (ARGS.access_key, ARGS.secret_key, ARGS.region, ARGS.token)
ACCOUNT = "123456789012"
ACTIONS = {
    "OTLP": "xray:PutSpans",
    "GetTraceSegmentDestination": "xray:GetTraceSegmentDestination",
    "UpdateTraceSegmentDestination": "xray:UpdateTraceSegmentDestination",
    "StartTraceRetrieval": "xray:StartTraceRetrieval",
    "ListRetrievedTraces": "xray:ListRetrievedTraces",
}

STS_ANSWER = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/tester</Arn>"
    "<UserId>AIDAEXAMPLEUSERID</UserId><Account>%s</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
)
LOCK = threading.Lock()
PRINT_LOCK = threading.Lock()
STATE = {"destination": ARGS.destination, "status": ARGS.status}
SPANS = []  # {"trace_id": "1-...", "span_id": hex, "name", "service", "start", "end"}
THROTTLED = [0]  # StartTraceRetrieval and ListRetrievedTraces calls seen, for --throttle
RETRIEVALS = {}  # token -> {"trace_ids": set, "polls": int}


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message):
    return AwsError(400, "InvalidRequestException", message)


def xray_id(hex_trace_id):
    return "1-%s-%s" % (hex_trace_id[:8], hex_trace_id[8:])


def timestamp(body, field):
    value = body.get(field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise invalid("%s must be a timestamp" % field)


def get_destination(body):
    return {"Destination": STATE["destination"], "Status": STATE["status"]}


def update_destination(body):
    destination = body.get("Destination")
    if destination not in ("XRay", "CloudWatchLogs"):
        raise invalid("Destination must be XRay or CloudWatchLogs")
    STATE["destination"], STATE["status"] = destination, "PENDING"
    return {"Destination": destination, "Status": "PENDING"}


def start_retrieval(body):
    if STATE["destination"] != "CloudWatchLogs":
        raise invalid("Transaction Search is not enabled: the trace segment destination is XRay")
    ids = body.get("TraceIds")
    if not isinstance(ids, list) or not ids or len(ids) > 5:
        raise invalid("TraceIds must hold 1 to 5 trace ids")
    for i in ids:
        if not (isinstance(i, str) and len(i) == 35 and i.startswith("1-") and i[10] == "-"):
            raise invalid("invalid trace id %r" % (i,))
    start, end = timestamp(body, "StartTime"), timestamp(body, "EndTime")
    if start >= end:
        raise invalid("StartTime must be before EndTime")
    token = "rt-%d-%s" % (len(RETRIEVALS) + 1, os.urandom(6).hex())
    RETRIEVALS[token] = {"trace_ids": set(ids), "start": start, "end": end, "polls": 0}
    return {"RetrievalToken": token}


def document(span, fmt):
    if fmt == "OTEL":
        return {
            "traceId": span["trace_id"],
            "spanId": span["span_id"],
            "name": span["name"],
            "resource": {"attributes": {"service.name": span["service"]}},
        }
    return {
        "id": span["span_id"],
        "trace_id": span["trace_id"],
        "name": span["service"],
        "start_time": span["start"],
        "end_time": span["end"],
    }


def list_retrieved(body):
    token = body.get("RetrievalToken")
    if not isinstance(token, str):
        raise invalid("RetrievalToken is required")
    retrieval = RETRIEVALS.get(token)
    if retrieval is None:
        raise AwsError(404, "ResourceNotFoundException", "retrieval token %s not found" % token)
    fmt = body.get("TraceFormat") or "XRAY"
    if fmt not in ("XRAY", "OTEL"):
        raise invalid("TraceFormat must be XRAY or OTEL")
    retrieval["polls"] += 1
    polls = retrieval["polls"]
    if ARGS.complete_after < 0 or polls <= ARGS.complete_after:
        # Empty until COMPLETE, as the API reference says.
        return {"RetrievalStatus": "SCHEDULED" if polls == 1 else "RUNNING", "Traces": []}
    found = [
        s
        for s in SPANS
        if s["trace_id"] in retrieval["trace_ids"]
        and retrieval["start"] <= s["start"] <= retrieval["end"]
    ]
    if ARGS.endless_pages:
        return {"RetrievalStatus": "COMPLETE", "Traces": [], "NextToken": "%s:%s" % (token, os.urandom(4).hex())}
    offset = 0
    if body.get("NextToken") is not None:
        try:
            prefix, value = body["NextToken"].split(":", 1)
            assert prefix == token
            offset = int(value)
            assert 0 < offset < len(found)
        except (ValueError, AssertionError):
            raise invalid("invalid NextToken")
    page = found[offset : offset + ARGS.page_size]
    traces = {}
    for s in page:
        trace = traces.setdefault(s["trace_id"], {"Id": s["trace_id"], "Duration": 0.0, "Spans": []})
        trace["Spans"].append({"Id": s["span_id"], "Document": json.dumps(document(s, fmt))})
    answer = {"RetrievalStatus": "COMPLETE", "TraceFormat": fmt, "Traces": list(traces.values())}
    if offset + ARGS.page_size < len(found):
        answer["NextToken"] = "%s:%d" % (token, offset + ARGS.page_size)
    return answer


def put_segments(body):
    """PutTraceSegments: under Transaction Search, segments and their subsegments become spans in
    CloudWatch Logs too, so retrievals find them by the same ids."""
    documents = body.get("TraceSegmentDocuments")
    if not isinstance(documents, list):
        raise invalid("TraceSegmentDocuments is required")
    unprocessed = []

    def walk(doc, trace_id, service, received):
        received.append(
            {
                "trace_id": trace_id,
                "span_id": str(doc.get("id", "")).lower(),
                "name": doc.get("name", ""),
                "service": service,
                "start": float(doc.get("start_time", 0)),
                "end": float(doc.get("end_time", 0) or 0),
            }
        )
        for sub in doc.get("subsegments", []) or []:
            walk(sub, trace_id, service, received)

    for text in documents:
        try:
            doc = json.loads(text)
            trace_id = doc["trace_id"]
            received = []
            walk(doc, trace_id, doc.get("name", ""), received)
        except (ValueError, KeyError, TypeError):
            unprocessed.append({"ErrorCode": "InvalidSegment", "Message": "not a segment document"})
            continue
        if STATE["destination"] == "CloudWatchLogs":
            SPANS.extend(received)
        RECEIVED_SEGMENTS.extend({k: r[k] for k in ("trace_id", "span_id", "name")} for r in received)
    return {"UnprocessedTraceSegments": unprocessed}


RECEIVED_SEGMENTS = []

OPERATIONS = {
    "/TraceSegments": put_segments,
    "/GetTraceSegmentDestination": get_destination,
    "/UpdateTraceSegmentDestination": update_destination,
    "/StartTraceRetrieval": start_retrieval,
    "/ListRetrievedTraces": list_retrieved,
}


def record_otlp(body, record):
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception:
        raise invalid("the body is not an OTLP ExportTraceServiceRequest")
    received = []
    for rs in request.resource_spans:
        service = next(
            (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), ""
        )
        for ss in rs.scope_spans:
            for s in ss.spans:
                received.append(
                    {
                        "trace_id": xray_id(s.trace_id.hex()),
                        "span_id": s.span_id.hex(),
                        "name": s.name,
                        "service": service,
                        "start": s.start_time_unix_nano / 1e9,
                        "end": s.end_time_unix_nano / 1e9,
                    }
                )
    record["spans"] = [{k: s[k] for k in ("trace_id", "span_id", "name")} for s in received]
    if STATE["destination"] != "CloudWatchLogs":
        raise invalid(
            "The OTLP API is supported with CloudWatch Logs as a Trace Segment Destination. "
            "Please enable the CloudWatch Logs destination for your traces using the "
            "UpdateTraceSegmentDestination API"
        )
    SPANS.extend(received)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = "http://%s%s" % (headers.get("host", ""), self.path)
        path = self.path.split("?", 1)[0]
        op = {"/v1/traces": "OTLP", "/TraceSegments": "PutTraceSegments"}.get(path, path.lstrip("/"))
        record = {"op": op, "valid": False, "reason": None, "request": None, "spans": []}
        if path == "/" and b"Action=GetCallerIdentity" in body:
            # STS, so that the account id in doctor's enabling commands can be checked.
            record["op"] = "GetCallerIdentity"
            xml = STS_ANSWER % (ACCOUNT, ACCOUNT)
            self.answer(200, "text/xml", xml.encode(), record)
            return
        try:
            reason = verify("POST", url, headers, body, CREDENTIALS)
            record["reason"] = reason
            if reason is not None:
                raise AwsError(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
            record["valid"] = True
            if op in ARGS.hang:
                threading.Event().wait(120)
            if op in ("StartTraceRetrieval", "ListRetrievedTraces"):
                with LOCK:
                    THROTTLED[0] += 1
                    throttled = THROTTLED[0] <= ARGS.throttle
                if throttled:
                    raise AwsError(400, "ThrottlingException", "Rate exceeded")
            if op in ARGS.deny:
                raise AwsError(
                    403,
                    "AccessDeniedException",
                    "User: arn:aws:iam::%s:user/tester is not authorized to perform: %s"
                    % (ACCOUNT, ACTIONS.get(op, "xray:" + op)),
                )
            with LOCK:
                if op == "OTLP":
                    record_otlp(body, record)
                    self.answer(200, "application/x-protobuf", ExportTraceServiceResponse().SerializeToString(), record)
                    return
                handler = OPERATIONS.get(path)
                if handler is None:
                    raise AwsError(404, "UnknownOperationException", "unknown operation %s" % path)
                try:
                    request = json.loads(body or b"{}")
                except ValueError:
                    raise AwsError(400, "SerializationException", "the body is not JSON")
                if not isinstance(request, dict):
                    raise AwsError(400, "SerializationException", "the body is not a JSON object")
                record["request"] = request
                before = len(RECEIVED_SEGMENTS)
                answer = handler(request)
                record["spans"] = RECEIVED_SEGMENTS[before:]
            self.answer(200, "application/json", json.dumps(answer).encode(), record)
        except AwsError as e:
            payload = json.dumps({"message": e.message}).encode()
            self.answer(e.status, "application/json", payload, record, e.code)

    def answer(self, status, content_type, payload, record, error=None):
        record["status"] = status
        # One write per line under a lock: concurrent requests must not interleave their lines.
        with PRINT_LOCK:
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("x-amzn-RequestId", os.urandom(16).hex())
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
