#!/usr/bin/env bash
# Fuzz what `listen` runs on network input: the decoders, the collector and the tree renderer.
# Usage: scripts/fuzz.sh [SECONDS per target]; TARGETS="collector" picks targets.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
seeds=target/fuzz-seeds
mkdir -p "$seeds/otlp_http" "$seeds/xray_udp" "$seeds/collector"
# Seeds: the synthetic trace as protobuf (selector byte 0) and as JSON (selector byte 1), a daemon
# datagram, all as tracectl itself produces them, and made-up spans whose ids collide and loop.
CARGO_TARGET_DIR="$PWD/target" RUSTC_BOOTSTRAP= cargo run --quiet --manifest-path fuzz/seeds/Cargo.toml -- "$seeds"
for target in ${TARGETS:-otlp_http xray_udp collector}; do
    echo "== $target for ${seconds}s"
    cargo fuzz run "$target" "$seeds/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 | tail -n 4
done
