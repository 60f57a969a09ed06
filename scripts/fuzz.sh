#!/usr/bin/env bash
# Coverage-guided fuzzing of infersteer's parsers and pipeline (libFuzzer, `fuzz/`).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS] [--merge]
#   scripts/fuzz.sh --smoke
#
# Builds the targets with libFuzzer's coverage instrumentation (stable rustc: -C passes and
# -C llvm-args, no nightly flag), then runs each for SECONDS (default 60) from its committed
# corpus (fuzz/corpus/TARGET, seeds from tests/fixtures and ../shared/captures) into a work
# corpus (fuzz/target/corpus/TARGET). A crash leaves its input in fuzz/artifacts/TARGET/ and
# fails the script (exit 1). At the end each target's line shows executions, coverage (edges:
# libFuzzer's `cov`, features: `ft`) and the corpus size; `--merge` then minimises the work
# corpus into the committed one.
#
# `--smoke` (what scripts/test.sh runs): every target for a fixed number of runs from a fixed
# seed, starting from the committed corpus alone, so that the same tree always runs the same
# inputs (about 15 s a target here); any crash fails it.
#
# Targets: wire tls http1 hpack h2 reassembly pipeline config (see fuzz/src/*.rs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

target=all
seconds=60
merge=0
smoke=0
while [ $# -gt 0 ]; do
    case "$1" in
        --merge) merge=1 ;;
        --smoke) smoke=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) if [ "$target" = all ] && ! [[ "$1" =~ ^[0-9]+$ ]]; then target=$1; else seconds=$1; fi ;;
    esac
    shift
done
all=(wire tls http1 hpack h2 reassembly pipeline config)
if [ "$target" = all ]; then targets=("${all[@]}"); else targets=("$target"); fi

export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks \
-Clink-arg=-Wl,-z,nostart-stop-gc"
# With --target, RUSTFLAGS reach only the target's crates, not build scripts and proc macros
# (which must not be instrumented: nothing links libFuzzer into them).
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --target "$host" --target-dir target/fuzz --bins -q

status=0
summary=()
for t in "${targets[@]}"; do
    bin=target/fuzz/$host/release/$t
    [ -x "$bin" ] || { echo "error: no fuzz target $t" >&2; exit 2; }
    mkdir -p "corpus/$t" "target/corpus/$t" "artifacts/$t"
    log=target/fuzz-$t.log
    if [ "$smoke" = 1 ]; then
        # Runs per target: about 15 s each on this machine kind.
        case "$t" in
            hpack) runs=20000 ;; pipeline) runs=100000 ;; reassembly|config) runs=300000 ;;
            *) runs=1000000 ;;
        esac
        rm -rf "target/corpus/$t" && mkdir -p "target/corpus/$t"
        limit=(-runs="$runs" -seed=1)
        echo "==> fuzz $t: $runs runs from seed 1"
    else
        limit=(-max_total_time="$seconds")
        echo "==> fuzz $t for ${seconds}s"
    fi
    if ! "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        "target/corpus/$t" "corpus/$t" >"$log" 2>&1; then
        echo "error: fuzz target $t found a crash (input in fuzz/artifacts/$t/):" >&2
        grep -E "panicked|ERROR|SUMMARY" "$log" | head -5 >&2 || true
        status=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    last=$(grep -E '#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || echo 0)
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || echo 0)
    if [ "$merge" = 1 ] && [ "$status" = 0 ]; then
        mkdir -p "target/merged/$t"
        "$bin" -merge=1 -max_len=4096 "target/merged/$t" "corpus/$t" "target/corpus/$t" >/dev/null 2>&1
        rm -rf "corpus/$t" && mv "target/merged/$t" "corpus/$t"
    fi
    n=$(ls "corpus/$t" | wc -l)
    summary+=("$(printf '%-11s %12s execs  %6s edges  %7s features  %5s corpus' "$t" "$execs" "$cov" "$ft" "$n")")
done
printf '\n%s\n' "${summary[@]}"
exit $status
