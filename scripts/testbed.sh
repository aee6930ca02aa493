#!/usr/bin/env bash
# Provision the real peers the integration tests talk to over loopback: a pinned Python venv with
# rotel (OTLP collector), moto (AWS X-Ray and STS), Flask, the OpenTelemetry SDK and aws-xray-sdk;
# and docker-compose (validates compose files without a Docker engine). Safe to run repeatedly.
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

if ! command -v docker-compose >/dev/null 2>&1; then
    echo "testbed: installing docker-compose (Debian package)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-compose >/dev/null
fi

echo "testbed: ready ($venv)" >&2
