"""Hold STALLED connections that send a request head and half of its body, then nothing, while a
well-behaved client posts REQUESTS small traces one after another; print that client's latency.

usage: stall.py PORT [STALLED] [REQUESTS]"""

import json
import socket
import sys
import time

port = int(sys.argv[1])
stalled_count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
requests = int(sys.argv[3]) if len(sys.argv) > 3 else 200

stalled = []
for _ in range(stalled_count):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 2000\r\n\r\n" + b" " * 1000)
    stalled.append(s)
time.sleep(0.2)


def body(n):
    span = {"traceId": f"{n + 1:032x}", "spanId": f"{n + 1:016x}", "name": f"good-{n}", "kind": 2,
            "startTimeUnixNano": "1000000", "endTimeUnixNano": "2000000"}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


latencies, failures = [], 0
started = time.monotonic()
for n in range(requests):
    payload = body(n)
    t = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            answer = b""
            while chunk := c.recv(4096):
                answer += chunk
        if not answer.startswith(b"HTTP/1.1 200"):
            failures += 1
    except OSError:
        failures += 1
    latencies.append(time.monotonic() - t)
elapsed = time.monotonic() - started

# How long until the stalled requests were answered (408) and closed.
t = time.monotonic()
answered = 0
for s in stalled:
    s.settimeout(60)
    try:
        if s.recv(64).startswith(b"HTTP/1.1 408"):
            answered += 1
    except OSError:
        pass
closed_after = time.monotonic() - started

latencies.sort()
pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000
print(f"{stalled_count} stalled bodies: good client {requests - failures}/{requests} ok, "
      f"p50 {pick(50):.2f} ms, p99 {pick(99):.2f} ms, max {latencies[-1] * 1000:.2f} ms, "
      f"{requests / elapsed:.0f} req/s; stalled answered 408: {answered}/{stalled_count} "
      f"within {closed_after:.1f} s of the start")
