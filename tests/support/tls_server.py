"""An HTTPS OTLP endpoint with a freshly made self-signed certificate for 127.0.0.1.

usage: tls_server.py DIR  -- writes the CA to DIR/cert.pem (the server's own certificate and key
beside it), prints the port, then answers
every POST with 200 and an empty ExportTraceServiceResponse until killed."""

import http.server
import ssl
import sys

from testca import make_certificates

_, chain_path, key_path = make_certificates(sys.argv[1])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(chain_path, key_path)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
