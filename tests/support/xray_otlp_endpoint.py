"""A loopback stand-in for X-Ray's OTLP endpoint (POST /v1/traces, SigV4, service `xray`).

Every request's signature is checked by recomputing it with botocore's own signer (not the code that
produced it), using the client's SignedHeaders and X-Amz-Date. Valid requests get 200 and an empty
ExportTraceServiceResponse; others get 403 with AWS's error shape. One JSON line per request on
stdout: {"valid", "reason", "service", "spans": [[name, kind], ...], "resource": {...}}.

usage: xray_otlp_endpoint.py ACCESS_KEY_ID SECRET_ACCESS_KEY REGION [SESSION_TOKEN]
The first line printed is the port.
"""

import datetime
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def verify(method, url, headers, body, credentials):
    """Why the request's SigV4 signature (service `xray`) is not the one botocore computes for
    `credentials` (access key id, secret key, region, session token or None); None when it is.
    Also imported by xray_api_fake.py."""
    ACCESS_KEY, SECRET_KEY, REGION, TOKEN = credentials
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    fields = dict(
        part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(",")
    )
    scope = fields["Credential"].split("/")
    amz_date = headers.get("x-amz-date", "")
    if scope[0] != ACCESS_KEY:
        return "unknown access key id"
    if scope[2:] != [REGION, "xray", "aws4_request"] or scope[1] != amz_date[:8]:
        return "credential scope %s is not <date>/%s/xray/aws4_request" % ("/".join(scope[1:]), REGION)
    if TOKEN is not None and headers.get("x-amz-security-token") != TOKEN:
        return "missing or wrong session token"
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return "host and x-amz-date must be signed"
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={h: headers[h] for h in signed if h not in ("x-amz-date", "x-amz-security-token")},
    )
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    # botocore never signs User-Agent, but AWS checks exactly the SignedHeaders a client names:
    # collectors (rotel) sign it, so the list of headers left out is emptied here.
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when), mock.patch.object(
        botocore.auth, "SIGNED_HEADERS_BLACKLIST", []
    ):
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, TOKEN), "xray", REGION).add_auth(
            request
        )
    if request.headers["Authorization"] != auth:
        return "signature does not match botocore's"
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = "http://%s%s" % (headers.get("host", ""), self.path)
        reason = verify("POST", url, headers, body, CREDENTIALS)
        record = {"valid": reason is None, "reason": reason, "path": self.path, "spans": [], "resource": {}}
        if reason is None and self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            # OTLP/HTTP senders may gzip the body (collectors do by default); the signature covers
            # the bytes as sent.
            if headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            request.ParseFromString(body)
            for rs in request.resource_spans:
                for attr in rs.resource.attributes:
                    record["resource"][attr.key] = attr.value.string_value
                for ss in rs.scope_spans:
                    record["spans"].extend([s.name, s.kind] for s in ss.spans)
        print(json.dumps(record), flush=True)
        if reason is None:
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
        else:
            payload = json.dumps({"message": "The request signature we calculated does not match the signature you provided."}).encode()
            self.send_response(403)
            self.send_header("content-type", "application/json")
            self.send_header("x-amzn-ErrorType", "InvalidSignatureException")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    CREDENTIALS = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
