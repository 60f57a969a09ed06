#!/usr/bin/env bash
# Leaks and memory errors: the DPDK virtual-device tests and the pipeline's attack tests under
# valgrind memcheck (installed through apt-get when missing). Fails on any invalid read or
# write, use of uninitialised memory, or a definite leak.
#
#   scripts/memcheck.sh [--quick]
#
# --quick runs only the DPDK tests. scripts/test.sh runs the whole set (about two minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_=sudo
    $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq valgrind
fi
scripts/install-dpdk.sh >/dev/null
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=no --num-callers=30 -q)
bins=()
dpdk=$(cargo test --release --features dpdk --test dpdk_vdev --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*dpdk_vdev[^"]*"' | cut -d'"' -f4 | tail -1)
bins+=("$dpdk")
if [ "${1:-}" != --quick ]; then
    for t in adversary_connections adversary_requests adversary_identity adversary_state; do
        b=$(cargo test --release --test "$t" --no-run --message-format=json 2>/dev/null \
            | grep -o "\"executable\":\"[^\"]*/$t-[^\"]*\"" | cut -d'"' -f4 | tail -1)
        bins+=("$b")
    done
fi
status=0
for b in "${bins[@]}"; do
    name=$(basename "$b")
    log=target/memcheck-$name.log
    echo "==> memcheck $name"
    # The DPDK test binary has its own harness (no arguments); the others are libtest's.
    args=()
    case "$name" in dpdk_vdev-*) ;; *) args=(--test-threads=1) ;; esac
    if ! "${vg[@]}" "$b" "${args[@]}" >"$log" 2>&1; then
        echo "error: memcheck found errors in $name ($log)" >&2
        status=1
    fi
    grep -E "passed|test result|ERROR SUMMARY" "$log" | tail -2
done
exit $status
