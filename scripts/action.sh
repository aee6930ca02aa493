#!/usr/bin/env bash
# The logic of the GitHub Action (action.yml at the repository root), one subcommand per step:
#
#   install        put a prebuilt tracectl on PATH: the release archive for this runner, its
#                  SHA-256 checked; says fallback=true when there is none (no such target or
#                  release), and fails when a download does not match its checksum, has no
#                  checksum, holds anything outside its folder, or no regular tracectl file
#   cargo-install  the fallback: cargo install --locked (the action's own source when the
#                  version is the action's), skipped when the cached binary is that version
#   run            tracectl doctor --format github --require-compose (or send-test --wait=N
#                  --to=...) in working-directory; exits with tracectl's exit code
#
# Every annotation this script prints goes through annotate(), which escapes what GitHub decodes.
#
# Inputs arrive as INPUT_* variables (never pasted into the script), the runner's facts as
# GITHUB_* and RUNNER_*. TRACECTL_RELEASE_URL replaces the release download base
# (https://github.com/OWNER/REPO/releases/download), e.g. for a mirror or a file:// folder.
set -euo pipefail
version=""
work=""

action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}

# Text as a workflow command's message: the runner decodes %25, %0D and %0A, and a raw \r or
# \n would end the command and let the rest of an input start another one.
escape_data() {
    local s=$1
    s=${s//%/%25}
    s=${s//$'\r'/%0D}
    s=${s//$'\n'/%0A}
    printf '%s' "$s"
}

# A property value (title=...) also ends at `:` and `,`.
escape_property() {
    local s
    s=$(escape_data "$1")
    s=${s//:/%3A}
    s=${s//,/%2C}
    printf '%s' "$s"
}

annotate() { # level (error, warning, notice), title, message
    printf '::%s title=%s::%s\n' "$1" "$(escape_property "$2")" "$(escape_data "$3")"
}

fail() { # exit code, message
    annotate error "tracectl action" "$2"
    exit "$1"
}

output() { # name, value
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
}

add_path() {
    if [ -n "${GITHUB_PATH:-}" ]; then
        printf '%s\n' "$1" >>"$GITHUB_PATH"
    fi
}

own_version() {
    sed -n 's/^version = "\(.*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1
}

# The version to install, in $version: the input, else the version of the action's own source.
resolve_version() {
    version=${INPUT_VERSION:-}
    version=${version#v}
    if [ -z "$version" ]; then
        version=$(own_version)
    fi
    if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
        fail 2 "version '${INPUT_VERSION:-}' is not a release version like 0.1.0"
    fi
}

# The release target built for this runner (see .github/workflows/release.yml), or nothing.
runner_target() {
    case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    *) echo "" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# Whether BINARY runs and says it is VERSION.
is_version() {
    [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "^tracectl $2 "
}

install() {
    local target base name dest
    resolve_version
    output version "$version"
    if [ "${RUNNER_OS:-}" = Windows ]; then
        fail 2 "tracectl runs on Linux and macOS runners, not Windows: use runs-on: ubuntu-latest"
    fi
    target=$(runner_target)
    if [ -z "$target" ]; then
        annotate notice "tracectl action" "no prebuilt tracectl for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; building it with cargo"
        output fallback true
        return 0
    fi
    dest="${RUNNER_TEMP:-/tmp}/tracectl-$version/bin"
    if is_version "$dest/tracectl" "$version"; then
        add_path "$dest"
        output fallback false
        output path "$dest/tracectl"
        return 0
    fi
    base=${TRACECTL_RELEASE_URL:-https://github.com/${GITHUB_ACTION_REPOSITORY:-}/releases/download}
    name="tracectl-v$version-$target"
    work=$(mktemp -d "${RUNNER_TEMP:-/tmp}/tracectl-download.XXXXXX")
    trap '[ -z "$work" ] || rm -rf "$work"' EXIT
    if ! curl --fail --silent --show-error --location --retry 3 --proto '=https,file' \
        --output "$work/$name.tar.gz" "$base/v$version/$name.tar.gz"; then
        annotate notice "tracectl action" "no release archive $name.tar.gz at $base/v$version; building it with cargo"
        output fallback true
        return 0
    fi
    # The archive is there: from now on only a checked one is installed, or the job stops.
    if ! curl --fail --silent --show-error --location --retry 3 --proto '=https,file' \
        --output "$work/$name.tar.gz.sha256" "$base/v$version/$name.tar.gz.sha256"; then
        fail 1 "$name.tar.gz is published but its checksum $name.tar.gz.sha256 could not be downloaded from $base/v$version: not installed (run the job again; if it persists, the release is broken)"
    fi
    local want got
    want=$(cut -d' ' -f1 <"$work/$name.tar.gz.sha256" | tr 'A-F' 'a-f')
    got=$(sha256_of "$work/$name.tar.gz")
    if ! [[ $want =~ ^[0-9a-f]{64}$ ]] || [ "$want" != "$got" ]; then
        fail 1 "$name.tar.gz does not match its published SHA-256 (expected ${want:-nothing}, got $got): not installed"
    fi
    # Every member inside the archive's one folder; then only the binary is unpacked, and it
    # must be a regular file there (not a link to anything else).
    local members member unpacked="$work/unpacked" binary
    # -P: the names as stored (GNU tar would print them with any leading ../ or / cut off).
    if ! members=$(tar -tzPf "$work/$name.tar.gz"); then
        fail 1 "$name.tar.gz could not be read (see tar's error above): not installed"
    fi
    while IFS= read -r member; do
        [ -n "$member" ] || continue
        case "/$member/" in
        /"$name"/*) ;;
        *) fail 1 "$name.tar.gz holds '$member', outside its folder $name/: not installed" ;;
        esac
        case "/$member/" in
        */../*) fail 1 "$name.tar.gz holds '$member', which climbs out with '..': not installed" ;;
        esac
    done <<<"$members"
    mkdir "$unpacked"
    if ! tar -xzf "$work/$name.tar.gz" -C "$unpacked" "$name/tracectl"; then
        fail 1 "$name.tar.gz could not be unpacked (see tar's error above): not installed"
    fi
    binary="$unpacked/$name/tracectl"
    if [ -L "$binary" ] || ! [ -f "$binary" ] || [ -L "$unpacked/$name" ] ||
        [ "$(cd "$unpacked/$name" && pwd -P)" != "$(cd "$unpacked" && pwd -P)/$name" ]; then
        fail 1 "$name.tar.gz holds no regular file $name/tracectl (a link or something else): not installed"
    fi
    mkdir -p "$dest"
    cp "$binary" "$dest/tracectl.partial"
    chmod 755 "$dest/tracectl.partial"
    mv -f "$dest/tracectl.partial" "$dest/tracectl"
    if ! is_version "$dest/tracectl" "$version"; then
        rm -f "$dest/tracectl"
        fail 1 "the tracectl in $name.tar.gz does not run as version $version on this runner"
    fi
    echo "tracectl $version ($target) installed in $dest"
    add_path "$dest"
    output fallback false
    output path "$dest/tracectl"
}

cargo_install() {
    local root
    resolve_version
    root="${TRACECTL_CARGO_ROOT:-$HOME/.cache/tracectl-action}/$version"
    if is_version "$root/bin/tracectl" "$version"; then
        echo "tracectl $version from the cache"
    else
        if [ "$(own_version)" = "$version" ]; then
            cargo install --locked --root "$root" --path "$action_path"
        else
            cargo install --locked --root "$root" tracectl --version "=$version"
        fi
    fi
    add_path "$root/bin"
    output path "$root/bin/tracectl"
}

# true/false inputs, as GitHub writes booleans; anything else is a mistake worth stopping for.
flag() { # input name, value
    case "$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')" in
    true) return 0 ;;
    false | "") return 1 ;;
    *) fail 2 "input $1 must be true or false, not '$2'" ;;
    esac
}

# Ids separated by commas, spaces or newlines, into the array $list (no glob expansion).
split_ids() {
    list=()
    read -r -a list <<<"$(printf '%s' "$1" | tr ',\n\t' '   ')" || true
}

run() {
    local mode=${INPUT_MODE:-doctor} tracectl=${TRACECTL:-tracectl} dir=${INPUT_WORKING_DIRECTORY:-.}
    local -a args=(--format github) list=()
    local strict=false offline=false
    flag strict "${INPUT_STRICT:-false}" && strict=true
    flag offline "${INPUT_OFFLINE:-false}" && offline=true
    case "$mode" in
    doctor)
        # A folder with no compose file fails (it would only skip): working-directory is wrong.
        args+=(doctor --require-compose)
        # Values as --flag=VALUE: an input that starts with "-" stays a value, never a flag.
        [ -n "${INPUT_TIMEOUT:-}" ] && args+=("--timeout=$INPUT_TIMEOUT")
        $strict && args+=(--strict)
        $offline && args+=(--offline)
        split_ids "${INPUT_CHECKS:-}"
        for id in ${list[@]+"${list[@]}"}; do args+=("--check=$id"); done
        split_ids "${INPUT_SKIP:-}"
        for id in ${list[@]+"${list[@]}"}; do args+=("--skip=$id"); done
        ;;
    send-test)
        local wait=${INPUT_WAIT-60}
        if ! [[ $wait =~ ^[0-9]+$ ]]; then
            fail 2 "input wait must be whole seconds, e.g. 60, not '$wait'"
        fi
        args+=(send-test "--wait=$wait")
        [ -n "${INPUT_TIMEOUT:-}" ] && args+=("--timeout=$INPUT_TIMEOUT")
        split_ids "${INPUT_TO:-}"
        # Nothing named would send to whatever is configured, and with nothing configured (a
        # secret missing or misspelt) to tracectl's in-process local receiver: a green check
        # that proves nothing about the deploy.
        if [ "${#list[@]}" -eq 0 ]; then
            fail 2 "input to is required in send-test mode: name where the trace must arrive (honeycomb, xray-otlp, xray, otlp, collector) and pass its secret to the step, e.g. HONEYCOMB_API_KEY for honeycomb"
        fi
        for to in "${list[@]}"; do
            args+=("--to=$to")
            if [ "$to" = local ]; then
                annotate warning "tracectl action" "to: local sends to a receiver inside this job: it proves the runner's pipe, not the deploy"
            fi
        done
        ;;
    *) fail 2 "input mode must be doctor or send-test, not '$mode'" ;;
    esac
    if [ -n "${GITHUB_WORKSPACE:-}" ] && [[ $dir != /* ]]; then
        dir="$GITHUB_WORKSPACE/$dir"
    fi
    if ! [ -d "$dir" ]; then
        fail 2 "working-directory '${INPUT_WORKING_DIRECTORY:-.}' does not exist"
    fi
    cd "$dir"
    local status=0
    "$tracectl" "${args[@]}" || status=$?
    output exit-code "$status"
    if [ "$status" -ne 0 ] && [ "$mode" = send-test ]; then
        annotate error "tracectl send-test" "the test trace did not arrive everywhere (exit $status)"
    fi
    exit "$status"
}

case "${1:-}" in
install) install ;;
cargo-install) cargo_install ;;
run) run ;;
*)
    echo "usage: $0 install|cargo-install|run" >&2
    exit 2
    ;;
esac
