#!/usr/bin/env bash
# Reproducible benchmarks on loopback. Usage: scripts/bench.sh [send-test|doctor|listen|independent|init|all]
# Prints hyperfine tables and peak RSS; raw results land in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
scripts/testbed.sh
cargo build --release --quiet
bin="$PWD/target/release/tracectl"
venv="${TRACECTL_TESTBED:-$PWD/target/testbed}"
out="$PWD/target/bench"
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install hyperfine" >&2; exit 2; }

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
peak_rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ "$what" = send-test ] || [ "$what" = all ]; then
    rotel=$(find "$venv/lib" -path '*site-packages/rotel/rotel-agent' | head -n 1)
    http=$(free_port); grpc=$(free_port)
    "$rotel" start --exporter blackhole --otlp-http-endpoint "127.0.0.1:$http" --otlp-grpc-endpoint "127.0.0.1:$grpc" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null && break; sleep 0.1; done
    echo "== send-test --to otlp vs the Python OTel SDK exporter (rotel on 127.0.0.1:$http)"
    hyperfine -N --warmup 5 --runs 100 --export-json "$out/send-test.json" \
        -n tracectl "$bin send-test --to otlp --endpoint http://127.0.0.1:$http -q" \
        -n python-otel-sdk "$venv/bin/python scripts/bench/otel_send.py http://127.0.0.1:$http"
    "$venv/bin/python" - "$out/send-test.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours, theirs = results["tracectl"]["median"], results["python-otel-sdk"]["median"]
print(f"median: tracectl {ours * 1000:.1f} ms, Python OTel SDK {theirs * 1000:.1f} ms, {theirs / ours:.1f}x faster")
PY
    echo "peak RSS of send-test: $(peak_rss "$bin" send-test --to otlp --endpoint "http://127.0.0.1:$http" -q) KiB"
fi

if [ "$what" = doctor ] || [ "$what" = all ]; then
    start_peer() { # start_peer KIND VAR: start a peers.py server, put its port in VAR
        local file; file=$(mktemp)
        "$venv/bin/python" scripts/bench/peers.py "$1" >"$file" &
        pids+=($!)
        for _ in $(seq 100); do [ -s "$file" ] && break; sleep 0.05; done
        printf -v "$2" '%s' "$(head -n 1 "$file")"; rm -f "$file"
    }
    work=$(mktemp -d)
    cp -r tests/fixtures/cruddur "$work/p" && mv "$work/p/dot-gitignore" "$work/p/.gitignore"
    key=hcaik_01hqk4k20zjwzq9m8x4ztwbs6h5ryyxqv9a4bb7p3xk0e5m4cncc4cjjm0
    "$bin" -C "$work/p" init --yes -q --honeycomb-api-key "$key" --aws-region eu-west-3 >/dev/null
    common=(env -i "PATH=$PATH" "HOME=$work" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
            AWS_EC2_METADATA_DISABLED=true GITPOD_WORKSPACE_ID=ws GITPOD_WORKSPACE_CLUSTER_HOST=gitpod.io)

    start_peer silent silent
    echo "== doctor with five endpoints that never answer (--timeout 2s)"
    hyperfine -N --warmup 1 --runs 10 -i --export-json "$out/doctor-unreachable.json" \
        "${common[*]} HONEYCOMB_API_ENDPOINT=http://127.0.0.1:$silent AWS_ENDPOINT_URL=http://127.0.0.1:$silent AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:$silent $bin -C $work/p doctor --timeout 2s -q"

    start_peer healthy healthy
    motoport=$(free_port)
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$motoport" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$motoport") 2>/dev/null && break; sleep 0.1; done
    echo "== doctor with every peer healthy on loopback (moto for STS and X-Ray)"
    hyperfine -N --warmup 3 --runs 30 --export-json "$out/doctor-healthy.json" \
        "${common[*]} HONEYCOMB_API_ENDPOINT=http://127.0.0.1:$healthy AWS_ENDPOINT_URL=http://127.0.0.1:$motoport AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:$healthy $bin -C $work/p doctor -q"
    rm -rf "$work"
fi

if [ "$what" = listen ] || [ "$what" = all ]; then
    count=${COUNT:-30000}; concurrency=${CONCURRENCY:-16}
    load() { "$bin" --format json send-test --to otlp --endpoint "http://127.0.0.1:$1" --count "$count" --concurrency "$concurrency" \
        | "$venv/bin/python" scripts/bench/load_summary.py; }
    wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; }
    for round in 1 2 3; do
        port=$(free_port)
        /usr/bin/time -f '%M' -o "$out/listen-rss" "$bin" --format json listen --no-xray --no-otlp-grpc --otlp-http "127.0.0.1:$port" \
            --exit-after-spans $((count * 3)) >/dev/null 2>&1 &
        wait_port "$port"
        echo "round $round  tracectl listen (JSON lines to /dev/null): $(load "$port"), peak RSS $(wait; cat "$out/listen-rss") KiB"
        rotel=$(find "$venv/lib" -path '*site-packages/rotel/rotel-agent' | head -n 1)
        port=$(free_port)
        "$rotel" start --exporter blackhole --otlp-http-endpoint "127.0.0.1:$port" --otlp-grpc-endpoint "127.0.0.1:$(free_port)" >/dev/null 2>&1 &
        rotel_pid=$!
        wait_port "$port"
        echo "round $round  rotel --exporter blackhole:                  $(load "$port"), peak RSS $(awk '/VmHWM/ {print $2}' "/proc/$rotel_pid/status") KiB"
        kill "$rotel_pid"; wait "$rotel_pid" 2>/dev/null || true
    done

    echo "== listen beside 100 clients that stall mid-body"
    port=$(free_port)
    "$bin" --format json listen --no-xray --no-otlp-grpc --otlp-http "127.0.0.1:$port" --exit-after 60 >/dev/null 2>&1 &
    listen_pid=$!
    wait_port "$port"
    "$venv/bin/python" scripts/bench/stall.py "$port" 100 200
    kill -INT "$listen_pid"; wait "$listen_pid" 2>/dev/null || true

    echo "== one request carrying 20 000 traces (60 000 spans, OTLP/JSON), drawn as trees"
    "$venv/bin/python" scripts/bench/big_request.py "$out/big.json" 20000
    port=$(free_port)
    /usr/bin/time -v -o "$out/big-time" "$bin" listen --no-xray --no-otlp-grpc --otlp-http "127.0.0.1:$port" --max-body 64MiB \
        --flush-after 100ms --exit-after-spans 60000 >"$out/big-trees.txt" 2>/dev/null &
    wait_port "$port"
    started=$(date +%s.%N)
    code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'content-type: application/json' \
        --data-binary "@$out/big.json" "http://127.0.0.1:$port/v1/traces")
    wait
    finished=$(date +%s.%N)
    echo "$(du -h "$out/big.json" | cut -f1) body: answered ${code% *} in ${code#* } s; all trees drawn after" \
        "$(echo "$finished - $started" | bc) s ($(grep -c '^●' "$out/big-trees.txt") trees);" \
        "peak RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$out/big-time") KiB"
fi

if [ "$what" = independent ] || [ "$what" = all ]; then
    # Load tools neither side wrote: wrk (OTLP/HTTP) and h2load (OTLP/gRPC: raw HTTP/2 calls with
    # the gRPC-framed body), one fixed 30-span export, 16 connections, 10 s each.
    command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 2; }
    command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 2; }
    "$venv/bin/python" scripts/bench/otlp_body.py "$out/body"
    rotel=$(find "$venv/lib" -path '*site-packages/rotel/rotel-agent' | head -n 1)
    wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; }
    export_path=/opentelemetry.proto.collector.trace.v1.TraceService/Export
    http_rps() { BODY="$out/body.pb" wrk -t2 -c16 -d10s -s scripts/bench/post.lua "http://127.0.0.1:$1/v1/traces" | awk '/Requests\/sec/ {print $2}'; }
    grpc_rps() { h2load -c16 -m4 -D10 -d "$out/body.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$1$export_path" | awk '/^finished in/ {gsub(",", "", $4); print $4} /^status codes:/ {codes=$0} END {print codes > "/dev/stderr"}'; }
    for proto in http grpc; do
        http=$(free_port); grpc=$(free_port)
        /usr/bin/time -f '%M' -o "$out/listen-rss" "$bin" --format json listen --no-xray --otlp-http "127.0.0.1:$http" \
            --otlp-grpc "127.0.0.1:$grpc" --exit-after 13 >/dev/null 2>&1 &
        if [ $proto = http ]; then wait_port "$http"; ours=$(http_rps "$http"); else wait_port "$grpc"; ours=$(grpc_rps "$grpc"); fi
        wait; ours_rss=$(cat "$out/listen-rss")
        http=$(free_port); grpc=$(free_port)
        "$rotel" start --exporter blackhole --otlp-http-endpoint "127.0.0.1:$http" --otlp-grpc-endpoint "127.0.0.1:$grpc" >/dev/null 2>&1 &
        rotel_pid=$!
        if [ $proto = http ]; then wait_port "$http"; theirs=$(http_rps "$http"); else wait_port "$grpc"; theirs=$(grpc_rps "$grpc"); fi
        theirs_rss=$(awk '/VmHWM/ {print $2}' "/proc/$rotel_pid/status")
        kill "$rotel_pid"; wait "$rotel_pid" 2>/dev/null || true
        echo "OTLP/$proto: listen (JSON lines to /dev/null) $ours requests/s, peak RSS $ours_rss KiB;" \
            "rotel (blackhole) $theirs requests/s, peak RSS $theirs_rss KiB; ratio $(echo "scale=2; $ours / $theirs" | bc)"
    done
    echo "release binary: $(stat -c %s "$bin") bytes"
    hyperfine -N --warmup 20 --runs 300 "$bin --version" /bin/true 2>/dev/null | grep -E 'Time|±' || true
fi

if [ "$what" = init ] || [ "$what" = all ]; then
    work=$(mktemp -d)
    cp -r tests/fixtures/cruddur "$work/p" && mv "$work/p/dot-gitignore" "$work/p/.gitignore"
    echo "== init --dry-run on the Cruddur fixture"
    hyperfine -N --warmup 3 --runs 50 --export-json "$out/init.json" \
        "$bin -C $work/p init --dry-run --yes --honeycomb-api-key uOexnOwfIU3LecPs1cYpLC --aws-region eu-west-3 -q"
    rm -rf "$work"
fi
