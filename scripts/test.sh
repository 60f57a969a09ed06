#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls this script).
#
# First installs what the tests need when it is missing (Rust components; DPDK 22.11 and
# libclang through apt-get), then: format check, clippy with -D warnings on
# every target and on the no_std build, rustdoc with -D warnings, all tests, the criterion
# benches in test mode (each bench body runs once, to prove it works; no timing), the DPDK
# feature's clippy, docs and virtual-device tests, the loom model of the GPU queue ring, the fuzz
# targets (corpus replay and a fixed-seed smoke, scripts/fuzz.sh --smoke), and the same
# tests cross-built for aarch64 and run under qemu (scripts/test-aarch64.sh, which installs its
# Debian cross toolchain itself).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: need root to run: $*" >&2
        return 1
    fi
}

# apt_need PKG...: installs the Debian packages that are not installed yet.
apt_need() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    step "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Rust components the checks use; a minimal rustup profile lacks them.
for comp in rustfmt clippy; do
    sub=$([ "$comp" = rustfmt ] && echo fmt || echo clippy)
    if ! cargo "$sub" --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null; then
            step "installing rust component $comp"
            rustup component add "$comp"
        else
            echo "error: cargo $sub is missing and rustup is not available to install $comp" >&2
            exit 1
        fi
    fi
done
# A C compiler for build scripts of dependencies, on the odd machine without one.
command -v cc >/dev/null || apt_need gcc libc6-dev
# A C++ compiler for libFuzzer (built by libfuzzer-sys for the fuzz targets).
command -v c++ >/dev/null || apt_need g++
# DPDK 22.11 (the workspace's infersteer-dpdk-sys links it; the `dpdk` feature's tests run on
# its virtual devices) and libclang for the bindings' `bindgen` feature.
step "DPDK 22.11 and libclang (apt-get when missing)"
scripts/install-dpdk.sh --bindgen

start=$(date +%s)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy (no_std core: --no-default-features)"
cargo clippy --workspace --lib --no-default-features --locked -- -D warnings

step "cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo test (workspace)"
cargo test --workspace --locked

step "cargo test --bench '*' (criterion benches in test mode)"
cargo test --workspace --bench '*' --locked

step "DPDK: clippy and docs with --features dpdk, the bindings regenerated with bindgen"
cargo clippy --workspace --all-targets --features dpdk --locked -- -D warnings
cargo clippy -p infersteer-dpdk-sys --features bindgen --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features dpdk --locked --quiet

step "DPDK tests on virtual devices (net_null, net_ring, net_pcap; EAL without hugepages)"
cargo test --workspace --features dpdk --locked --test dpdk_vdev

step "release build: session affinity across 2,000,000 packets, isolation, policing"
cargo test --release --locked --test pipeline_steer --test policy_isolation --test policy_police

step "loom: the GPU queue ring under every interleaving (RUSTFLAGS=--cfg loom)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --locked --test loom_ring

step "fuzz targets: every committed corpus input and regression replayed, then a fixed-seed smoke"
(cd fuzz && cargo test --release --locked)
scripts/fuzz.sh --smoke

step "valgrind memcheck: the DPDK virtual-device tests and the attack tests (scripts/memcheck.sh)"
scripts/memcheck.sh

step "aarch64 (BlueField-3 Arm cores): cross-build and run the same tests under qemu"
scripts/test-aarch64.sh

printf '\nall checks passed in %ss\n' "$(( $(date +%s) - start ))"
