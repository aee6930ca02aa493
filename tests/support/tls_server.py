"""An HTTPS OTLP endpoint with a freshly made self-signed certificate for 127.0.0.1.

usage: tls_server.py DIR  -- writes the CA to DIR/cert.pem (the server's own certificate and key
beside it), prints the port, then answers
every POST with 200 and an empty ExportTraceServiceResponse until killed."""

import datetime
import http.server
import ipaddress
import os
import ssl
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

folder = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def certificate(subject, issuer, public_key, signing_key, ca):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tracectl test CA")])
ca = certificate(ca_name, ca_name, ca_key.public_key(), ca_key, True)
leaf_key = ec.generate_private_key(ec.SECP256R1())
leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
leaf = certificate(leaf_name, ca_name, leaf_key.public_key(), ca_key, False)

cert_path = os.path.join(folder, "cert.pem")
chain_path, key_path = os.path.join(folder, "chain.pem"), os.path.join(folder, "key.pem")
with open(cert_path, "wb") as f:
    f.write(ca.public_bytes(serialization.Encoding.PEM))
with open(chain_path, "wb") as f:
    f.write(leaf.public_bytes(serialization.Encoding.PEM))
with open(key_path, "wb") as f:
    f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


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
