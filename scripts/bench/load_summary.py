"""One line from `tracectl --format json send-test --count N` on stdin."""

import json
import sys

load = json.load(sys.stdin)["load"]
latency = load["latency_ms"]
print(
    f"{load['spans_per_second']:.0f} spans/s, ok {load['ok']}/{load['traces']}, "
    f"p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms"
)
