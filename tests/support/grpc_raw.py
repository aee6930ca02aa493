"""A gRPC client (grpcio) that sends any bytes as the request message to any method.

usage: grpc_raw.py ADDR METHOD KIND [gzip] -- KIND: garbage (bytes that are no protobuf),
big:N (N bytes), empty (a zero-length message). Prints {"code": ..., "details": ...}."""

import json
import sys

import grpc

addr, method, kind = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == "garbage":
    payload = b"\xff\x13\x37\x00\xde\xad\xbe\xef"
elif kind.startswith("big:"):
    payload = b"\x0a" + b"\xff" * (int(kind[4:]) - 1)
else:
    payload = b""
compression = grpc.Compression.Gzip if sys.argv[4:] == ["gzip"] else grpc.Compression.NoCompression
with grpc.insecure_channel(addr, compression=compression) as channel:
    call = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        call(payload, timeout=20)
        print(json.dumps({"code": "OK", "details": ""}))
    except grpc.RpcError as e:
        print(json.dumps({"code": e.code().name, "details": e.details()}))
