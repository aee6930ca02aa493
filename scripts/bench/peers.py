"""Loopback peers for scripts/bench.sh doctor.

usage: peers.py healthy  -- one HTTP server answering Honeycomb's /1/auth and /v1/traces and the
                            X-Ray daemon's /GetSamplingRules, as their documentation describes
       peers.py silent   -- a listener that accepts connections and never answers
Prints the port, then serves until killed."""

import email.utils
import http.server
import json
import socket
import sys
import time


class Healthy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body, content_type="application/json"):
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("date", email.utils.formatdate(usegmt=True))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        auth = {"id": "k", "type": "ingest", "api_key_access": {"events": True},
                "environment": {"name": "Bench", "slug": "bench"}, "team": {"name": "Bench", "slug": "bench"}}
        self.answer(json.dumps(auth).encode())

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path == "/GetSamplingRules":
            self.answer(b'{"SamplingRuleRecords": []}')
        else:
            self.answer(b"", "application/x-protobuf")

    def log_message(self, *args):
        pass


if sys.argv[1] == "healthy":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    print(server.server_address[1], flush=True)
    server.serve_forever()
else:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)
