#!/usr/bin/env bash
# Compile cost of the typed SDK where it lands: clean builds (fresh target dir, dependencies
# included) of the `every_method` example, which sends one typed request of each of the 226
# methods, in dev and release; then the SDK library alone with all categories and with one.
#
#   bash benches/build-cost.sh            # all measurements
#   bash benches/build-cost.sh dev        # only the dev build of every_method
#   bash benches/build-cost.sh peer       # every_method release vs the peer crate's equivalent
#
# `peer` builds, in the same run, a throwaway crate (in a temp dir) that depends on `voip-ms`
# 0.21.0 from crates.io with its default features and calls each of its typed methods once with
# default parameters: the peer SDK's counterpart of `every_method`. Each line prints wall time and
# CPU time (user + sys of cargo and everything it ran).
#
# Figures depend on the machine and on what else runs: compare runs made on one machine together.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
target=$(mktemp -d /tmp/voipms-build-cost.XXXXXX)
trap 'rm -rf "$target"' EXIT
export CARGO_INCREMENTAL=0

measure() { # label, cargo args...
    local label=$1; shift
    rm -rf "$target"/*
    local times
    times=$(mktemp)
    /usr/bin/time -f "%e %U %S" -o "$times" env CARGO_TARGET_DIR="$target" cargo "$@" --quiet
    read -r wall user sys <"$times"
    rm -f "$times"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" \
        'BEGIN { printf "%-55s %7.1f s wall %7.1f s cpu\n", l, w, u + s }'
}

# The peer crate's every-method counterpart, written to $1.
peer_crate() {
    local dir=$1
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<'TOML'
[package]
name = "peer-every-method"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
voip-ms = "=0.21.0"
tokio = { version = "1", features = ["rt", "macros"] }

[workspace]
TOML
    echo 'fn main() {}' >"$dir/src/main.rs"
    (cd "$dir" && cargo fetch --quiet)
    local src
    src=$(cd "$dir" && cargo metadata --format-version 1 |
        python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="voip-ms"))')
    src=$(dirname "$src")/src/generated.rs
    {
        echo '#[tokio::main(flavor = "current_thread")]'
        echo 'async fn main() {'
        echo '    let c = voip_ms::Client::new("user@example.com", "not-a-password");'
        # Every typed method (not the *_raw twins), each with default parameters.
        grep -Pzo 'pub async fn \w+\(\s*&self,\s*params: &\w+Params,?\s*\)' "$src" | tr '\0' '\n' |
            tr -s ' \n' ' ' | grep -o 'pub async fn [a-z0-9_]*( *&self, *params: &[A-Za-z0-9]*' |
            grep -v '_raw(' |
            sed -E 's/pub async fn ([a-z0-9_]+)\( *&self, *params: &([A-Za-z0-9]+)/    let _ = c.\1(\&voip_ms::\2::default()).await;/'
        echo '}'
    } >"$dir/src/main.rs"
}

cargo fetch --quiet
case $what in
dev) measure "every_method example, clean dev build" build -p examples --example every_method ;;
release) measure "every_method example, clean release build" build --release -p examples --example every_method ;;
all)
    measure "every_method example, clean dev build" build -p examples --example every_method
    measure "every_method example, clean release build" build --release -p examples --example every_method
    measure "voipms-sdk lib (full), clean dev build" build -p voipms-sdk
    measure "voipms-sdk lib (phonebook only), clean dev build" build -p voipms-sdk --no-default-features --features phonebook
    ;;
peer)
    peer=$(mktemp -d /tmp/voipms-peer-cost.XXXXXX)
    trap 'rm -rf "$target" "$peer"' EXIT
    peer_crate "$peer"
    echo "peer crate: $(grep -c 'let _ = c\.' "$peer/src/main.rs") typed calls"
    measure "every_method example, clean release build" build --release -p examples --example every_method
    measure "voip-ms 0.21.0 every method, clean release build" build --release --manifest-path "$peer/Cargo.toml"
    ;;
*) echo "usage: $0 [all|dev|release|peer]" >&2; exit 2 ;;
esac
