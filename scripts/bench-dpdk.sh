#!/usr/bin/env bash
# infersteer's DPDK forwarding loop against dpdk-testpmd's io forwarding, on the same two
# `net_null` vdevs, one forwarding core each, for the same duration.
#
#   testpmd:    -l 0,1: lcore 0 is the main lcore (it only prints stats once a second), lcore 1
#               forwards port 0 <-> port 1 (io mode: rx burst of 32, tx it on the other port).
#   infersteer: -l 1: the main lcore does everything (examples/dpdk_forward.rs): rx burst of
#               32 on each port -> pipeline (parse, flow lookup, police, quota, steer) -> GPU
#               queues, whose consumer runs on the same core between bursts and frees the
#               mbufs in bulk -> tx of host-bound frames on the other port. Every mbuf of the
#               pool is seeded with a segment of an admitted HTTP/1.1 flow, so every frame goes
#               the whole way to a GPU queue.
#
# Both use a pool of 8191 mbufs, `--no-huge -m 512 --no-pci` and a unique `--file-prefix`;
# frames are FRAME_LEN bytes (net_null `size=`). Run as root. Prints both rates and, last,
# `ratio: X` (infersteer Mpps / testpmd Mpps).
#
# Environment: SECONDS_RUN (default 5), FRAME_LEN (default 128), FLOWS (default 64),
# QUEUES (default 4), PREFETCH_AHEAD (default: the pipeline's, 4; 0 turns the prefetch off),
# CARGO_TARGET_DIR (default target).
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-5}
FRAME_LEN=${FRAME_LEN:-128}
FLOWS=${FLOWS:-64}
QUEUES=${QUEUES:-4}
PREFETCH=()
if [ -n "${PREFETCH_AHEAD:-}" ]; then
    PREFETCH=(--prefetch-ahead "$PREFETCH_AHEAD")
fi
TARGET=${CARGO_TARGET_DIR:-target}

if [ "$(id -u)" != 0 ]; then
    echo "bench-dpdk.sh: run as root (DPDK needs it even without hugepages)" >&2
    exit 1
fi
if ! command -v dpdk-testpmd >/dev/null; then
    echo "bench-dpdk.sh: dpdk-testpmd not found: apt-get install -y dpdk" >&2
    exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "bench-dpdk.sh: needs 2 cores (lcores 0 and 1)" >&2
    exit 1
fi

cargo build --release --features dpdk --example dpdk_forward >&2
BIN="$TARGET/release/examples/dpdk_forward"

EAL=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry --log-level=error
     --vdev "net_null0,size=$FRAME_LEN" --vdev "net_null1,size=$FRAME_LEN")
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

# testpmd: stats every second; SIGINT after the run (it then prints its totals and exits).
timeout -s INT "$((SECONDS_RUN + 6))" dpdk-testpmd -l 0,1 "${EAL[@]}" \
    --file-prefix "bench-testpmd-$$" -- \
    --forward-mode=io --nb-cores=1 --burst=32 --total-num-mbufs=8191 --stats-period 1 \
    </dev/null >"$LOG/testpmd.log" 2>&1 || true
TESTPMD=$(python3 - "$LOG/testpmd.log" "$SECONDS_RUN" <<'EOF'
import re, sys
text = open(sys.argv[1], errors="replace").read()
# One "Rx-pps" line per port per stats period (2 ports): sum each period.
pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", text)]
periods = [pps[i] + pps[i + 1] for i in range(0, len(pps) - 1, 2)]
# The first report has no previous one to diff against (0), the second includes start-up.
steady = [p for p in periods if p > 0][1:][: int(sys.argv[2])]
if not steady:
    sys.exit("no testpmd rate found:\n" + text[-2000:])
print(f"{sum(steady) / len(steady) / 1e6:.2f} {len(steady)}")
EOF
)
read -r TESTPMD_MPPS TESTPMD_SAMPLES <<<"$TESTPMD"
echo "testpmd io forwarding: $TESTPMD_MPPS Mpps (1 forwarding lcore, 2 net_null ports, ${FRAME_LEN}-byte frames; mean of $TESTPMD_SAMPLES one-second periods)"

"$BIN" --seconds "$SECONDS_RUN" --flows "$FLOWS" --queues "$QUEUES" --frame-len "$FRAME_LEN" "${PREFETCH[@]}" -- \
    -l 1 "${EAL[@]}" --file-prefix "bench-infersteer-$$" >"$LOG/infersteer.log" 2>&1
grep '^infersteer' "$LOG/infersteer.log" | grep -v '^infersteer-mpps' || true
INFERSTEER_MPPS=$(sed -n 's/^infersteer-mpps: //p' "$LOG/infersteer.log")
if [ -z "$INFERSTEER_MPPS" ]; then
    cat "$LOG/infersteer.log" >&2
    exit 1
fi
# The same binary without the pipeline (rx -> tx through the safe wrappers): the DPDK layer's
# own cost next to testpmd's.
"$BIN" --io --seconds "$SECONDS_RUN" --frame-len "$FRAME_LEN" -- \
    -l 1 "${EAL[@]}" --file-prefix "bench-infersteer-io-$$" >"$LOG/io.log" 2>&1
IO_MPPS=$(sed -n 's/^infersteer-mpps: //p' "$LOG/io.log")
echo "infersteer --io (safe wrappers, rx -> tx, no pipeline): ${IO_MPPS:-?} Mpps"
echo "infersteer forwarding: $INFERSTEER_MPPS Mpps (1 lcore, same vdevs, every frame parsed, classified by flow, policed and steered to a GPU queue)"
python3 -c "print(f'ratio: {$INFERSTEER_MPPS / $TESTPMD_MPPS:.2f}')"
