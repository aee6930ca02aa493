"""Run the recipe's aws-xray-sdk with centralized sampling against the daemon at
AWS_XRAY_DAEMON_ADDRESS: its rule poller fetches the daemon's rules (POST /GetSamplingRules over
TCP), statistics are reported as its target poller does (POST /SamplingTargets), then SEGMENTS
segments are recorded, each sampled by the rule the daemon gave. The SDK logs to stderr."""

import logging
import os
import sys
import time

logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

from aws_xray_sdk.core import xray_recorder  # noqa: E402

xray_recorder.configure(service="sampled-app", sampling=True, context_missing="LOG_ERROR")
sampler = xray_recorder.sampler

# The pollers start with the first sampling decision; the rule poller fetches at once.
sampler.should_trace({"service": "sampled-app"})
deadline = time.time() + 20
while not sampler._cache.rules:
    if time.time() > deadline:
        sys.exit("the SDK's rule poller loaded no sampling rule from the daemon")
    time.sleep(0.05)

# What the target poller does every 10 seconds, done now through the SDK's own connector.
targets, modified = sampler._connector.fetch_sampling_target(sampler._cache.rules)
sampler._cache.load_targets(targets)
print(f"rules={[r.name for r in sampler._cache.rules]} targets={sorted(targets)}", file=sys.stderr)

# Without the daemon's rule the SDK samples 1 request a second and 5% of the rest: most of these
# would be dropped.
for n in range(int(os.environ.get("SEGMENTS", "5"))):
    segment = xray_recorder.begin_segment("sampled-app")
    print(f"segment {n} sampled={segment.sampled}", file=sys.stderr)
    xray_recorder.end_segment()
