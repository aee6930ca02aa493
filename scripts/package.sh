#!/usr/bin/env bash
# Package a built tracectl as a release archive, the way .github/workflows/release.yml does:
#
#   scripts/package.sh TARGET BINARY [OUTDIR]
#
# writes OUTDIR/tracectl-vVERSION-TARGET.tar.gz (a folder of that name holding tracectl, the man
# pages, the completions and the README) and OUTDIR/tracectl-vVERSION-TARGET.tar.gz.sha256
# (`sha256sum -c` checks it). The names are the ones [package.metadata.binstall] in Cargo.toml
# and the GitHub Action download. Files are stored in a fixed order with SOURCE_DATE_EPOCH (or
# the commit's date) as their time, so the same binary gives the same archive (GNU tar).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET BINARY [OUTDIR]" >&2
    exit 2
fi
target=$1
binary=$2
root=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$root/target/dist}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
name="tracectl-v$version-$target"

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name"
cp "$binary" "$stage/$name/tracectl"
chmod 755 "$stage/$name/tracectl"
cp -R "$root/man" "$root/completions" "$root/README.md" "$stage/$name/"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
tar=tar
command -v gtar >/dev/null 2>&1 && tar=gtar
if "$tar" --version 2>/dev/null | grep -q 'GNU tar'; then
    "$tar" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
        -C "$stage" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
else
    "$tar" -C "$stage" -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
fi
(
    cd "$out"
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$name.tar.gz" >"$name.tar.gz.sha256"
    else
        shasum -a 256 "$name.tar.gz" >"$name.tar.gz.sha256"
    fi
)
echo "$out/$name.tar.gz"
