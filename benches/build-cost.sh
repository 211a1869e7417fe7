#!/usr/bin/env bash
# Compile cost of the typed SDK where it lands: clean builds (fresh target dir, dependencies
# included) of the `every_method` example, which sends one typed request of each of the 226
# methods, in dev and release; then the SDK library alone with all categories and with one.
#
#   bash benches/build-cost.sh            # all measurements
#   bash benches/build-cost.sh dev        # only the dev build of every_method
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
    local start end
    start=$(date +%s.%N)
    CARGO_TARGET_DIR=$target cargo "$@" --quiet
    end=$(date +%s.%N)
    awk -v l="$label" -v s="$start" -v e="$end" 'BEGIN { printf "%-55s %7.1f s\n", l, e - s }'
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
*) echo "usage: $0 [all|dev|release]" >&2; exit 2 ;;
esac
