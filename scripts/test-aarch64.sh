#!/usr/bin/env bash
# Cross-builds the workspace and all its tests for aarch64-unknown-linux-gnu (the BlueField-3 Arm
# cores' target) and runs them under qemu user-mode emulation, then runs the same tests on the
# host and checks that both ran the same number of tests.
#
# rustup cannot download the aarch64 std here, so the cross build uses Debian's own toolchain
# (rustc-web / cargo-web from bookworm-security, with the arm64 std from libstd-rust-web-dev:arm64),
# called by full path, linked with aarch64-linux-gnu-gcc and run through qemu-aarch64. Missing
# Debian packages are installed first (apt-get; sudo when not root). The cross build has its own
# target dir (target/aarch64), so it never touches the host build in target/.
#
# Runs: `cargo test --workspace --exclude infersteer-dpdk-sys --no-fail-fast --locked` and the
# criterion benches in test mode (`... --bench '*'`), on the host (rustup's cargo) and for aarch64
# (Debian's cargo). The DPDK -sys crate is left out on both sides: its build script needs
# libdpdk for the target, and there is no arm64 DPDK in this cross sysroot (it has no tests).
# Logs: target/test-host.log and target/test-aarch64.log.
# Ends with `host: N tests passed` and `aarch64: N tests passed` (N = sum of every `test result:`
# line's passed count, plus 1 for the harness-less tests/no_alloc.rs when it succeeds) and fails
# when a run fails or the two counts differ.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
CROSS_TARGET_DIR=target/aarch64
SYSROOT_ARM64=/usr/aarch64-linux-gnu
HOST_LOG=target/test-host.log
CROSS_LOG=target/test-aarch64.log
# Debian packages; `pkg:arm64` is the arm64 build of a package (needs the arm64 dpkg architecture).
PACKAGES=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu
    libc6-dev-arm64-cross qemu-user file)

step() { printf '\n==> %s\n' "$*"; }
die() {
    printf '\nerror: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Installs the packages in PACKAGES that are missing; dies naming what could not be installed.
ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "Debian packages present: ${PACKAGES[*]}"
        return 0
    fi
    step "installing ${missing[*]}"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "adding the arm64 dpkg architecture"
        as_root dpkg --add-architecture arm64 ||
            die "cannot add the arm64 dpkg architecture (needed for libstd-rust-web-dev:arm64)"
    fi
    as_root apt-get update -qq || echo "warning: apt-get update reported errors; trying the install anyway" >&2
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
    local still=() why
    for p in "${missing[@]}"; do
        installed "$p" && continue
        why=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
        if [ -z "$why" ] || [ "$why" = "(none)" ]; then
            why="no installation candidate in the configured apt sources"
        else
            why="candidate $why did not install (see apt-get output above)"
        fi
        still+=("$p: $why")
    done
    if [ ${#still[@]} -gt 0 ]; then
        printf 'error: cannot install the Debian package %s\n' "${still[@]}" >&2
        case " ${missing[*]} " in *" rustc-web "* | *" cargo-web "* | *":arm64 "*)
            echo "  (rustc-web, cargo-web and libstd-rust-web-dev come from bookworm-security;" \
                "libstd-rust-web-dev:arm64 needs the arm64 architecture in the apt sources)" >&2 ;;
        esac
        exit 1
    fi
    [ "$rc" -eq 0 ] || die "apt-get install exited with status $rc"
}

# deb_bin PACKAGE NAME: the path of executable NAME shipped by PACKAGE (/usr/bin first).
deb_bin() {
    local files
    files=$(dpkg -L "$1" 2>/dev/null | grep -E "/bin/$2\$" || true)
    if grep -qx "/usr/bin/$2" <<<"$files"; then
        echo "/usr/bin/$2"
    else
        grep -v '^/usr/share/' <<<"$files" | head -n1
    fi
}

# count_tests LOG: passed counts of all `test result:` lines, +1 for a successful no_alloc run.
count_tests() {
    local n
    n=$(awk '/^test result: (ok|FAILED)\. [0-9]+ passed/ { s += $4 } END { print s + 0 }' "$1")
    if grep -qa '^no_alloc: ' "$1" && ! grep -qa -- '--test no_alloc' "$1"; then
        n=$((n + 1))
    fi
    echo "$n"
}
# count_benches LOG: criterion benchmarks that ran successfully in test mode.
count_benches() { grep -ca '^Success$' "$1" || true; }

# run_logged LOG CMD...: runs CMD with its output shown and appended to LOG; returns CMD's status.
run_logged() {
    local log=$1 rc=0
    shift
    printf '\n==> %s\n' "$*" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log" || rc=$?
    return "$rc"
}

start=$(date +%s)

# --- tools ---------------------------------------------------------------------------------------
step "checking the cross toolchain"
ensure_packages

DEB_RUSTC=$(deb_bin rustc-web rustc)
DEB_RUSTDOC=$(deb_bin rustc-web rustdoc)
DEB_CARGO=$(deb_bin cargo-web cargo)
[ -n "$DEB_RUSTC" ] && [ -x "$DEB_RUSTC" ] || die "rustc not found in the rustc-web package"
[ -n "$DEB_RUSTDOC" ] && [ -x "$DEB_RUSTDOC" ] || die "rustdoc not found in the rustc-web package"
[ -n "$DEB_CARGO" ] && [ -x "$DEB_CARGO" ] || die "cargo not found in the cargo-web package"
for tool in aarch64-linux-gnu-gcc qemu-aarch64 file; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH (packages: ${PACKAGES[*]})"
done
[ -e "$SYSROOT_ARM64/lib/ld-linux-aarch64.so.1" ] ||
    die "$SYSROOT_ARM64/lib/ld-linux-aarch64.so.1 missing (package libc6-dev-arm64-cross / libc6-arm64-cross)"
for t in "$TARGET" "$("$DEB_RUSTC" -vV | awk '/^host:/ { print $2 }')"; do
    libdir=$("$DEB_RUSTC" --print target-libdir --target "$t")
    compgen -G "$libdir/libstd-*.rlib" >/dev/null ||
        die "$DEB_RUSTC has no std for $t in $libdir (package libstd-rust-web-dev$([ "$t" = "$TARGET" ] && echo :arm64);" \
            "its version must equal rustc-web's)"
done
HOST_CARGO=$(command -v cargo) || die "no host cargo on PATH"

echo "host:    $HOST_CARGO ($(cargo --version)), $(command -v rustc) ($(rustc --version))"
echo "aarch64: $DEB_CARGO ($("$DEB_CARGO" --version)), $DEB_RUSTC ($("$DEB_RUSTC" --version))"
echo "         $DEB_RUSTDOC ($("$DEB_RUSTDOC" --version)), $(aarch64-linux-gnu-gcc --version | head -n1)"
echo "         $(qemu-aarch64 --version | head -n1)"

mkdir -p target
: >"$HOST_LOG"
: >"$CROSS_LOG"
failed=()

# --- host ----------------------------------------------------------------------------------------
step "host tests (x86-64, $HOST_CARGO)"
run_logged "$HOST_LOG" cargo test --workspace --exclude infersteer-dpdk-sys --no-fail-fast --locked || failed+=("host tests")
run_logged "$HOST_LOG" cargo test --workspace --exclude infersteer-dpdk-sys --bench '*' --locked || failed+=("host benches (test mode)")

# --- aarch64 -------------------------------------------------------------------------------------
# Only Debian's toolchain (full paths) in this environment; build scripts are compiled for the
# host by the same rustc, with the host std that libstd-rust-web-dev (amd64) provides.
# The runner loads the binaries with the cross sysroot's ld.so AND its libraries: without
# LD_LIBRARY_PATH, that ld.so (libc6-arm64-cross 2.36-8cross1) would pick libc.so.6 from
# /lib/aarch64-linux-gnu (libc6:arm64, a dependency of libstd-rust-web-dev:arm64, another glibc
# build), and the mismatched pair spins forever in the first pthread_create (every libtest test).
# `timeout` turns any other emulation hang into a failed test binary instead of a stuck script.
runner=(timeout "${AARCH64_TEST_TIMEOUT:-900}" qemu-aarch64 -L "$SYSROOT_ARM64"
    -E "LD_LIBRARY_PATH=$SYSROOT_ARM64/lib")
cross=(env
    RUSTC="$DEB_RUSTC"
    RUSTDOC="$DEB_RUSTDOC"
    CARGO_TARGET_DIR="$CROSS_TARGET_DIR"
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="${runner[*]}"
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
    "$DEB_CARGO")
step "aarch64 tests (cross-built by $DEB_CARGO, run under qemu-aarch64)"
run_logged "$CROSS_LOG" "${cross[@]}" test --workspace --exclude infersteer-dpdk-sys --target "$TARGET" --no-fail-fast --locked ||
    failed+=("aarch64 tests")
run_logged "$CROSS_LOG" "${cross[@]}" test --workspace --exclude infersteer-dpdk-sys --target "$TARGET" --bench '*' --locked ||
    failed+=("aarch64 benches (test mode)")

# --- checks --------------------------------------------------------------------------------------
step "summary"
# The library's unit-test binary, from cargo's `Running unittests src/lib.rs (PATH)` line.
bin=$(sed -nE "s#^ *Running unittests src/lib\.rs \(([^)]*/$TARGET/debug/deps/infersteer-[0-9a-f]+)\)\$#\1#p" \
    "$CROSS_LOG" | head -n1)
if [ -z "$bin" ] || [ ! -f "$bin" ]; then
    failed+=("aarch64 test binary not found in $CROSS_LOG")
else
    desc=$(file -b "$bin")
    echo "test binary $bin: $desc"
    grep -q 'ARM aarch64' <<<"$desc" || failed+=("$bin is not an aarch64 binary")
fi

host_n=$(count_tests "$HOST_LOG")
cross_n=$(count_tests "$CROSS_LOG")
host_b=$(count_benches "$HOST_LOG")
cross_b=$(count_benches "$CROSS_LOG")
for log in "$CROSS_LOG" "$HOST_LOG"; do
    if grep -qaE '^test .* \.\.\. FAILED$|panicked at' "$log"; then
        echo "failures in $log:"
        grep -aE '^test .* \.\.\. FAILED$|panicked at' "$log" | sed 's/^/    /'
    fi
done
[ "$host_n" -gt 0 ] || failed+=("no passed tests found in $HOST_LOG")
[ "$host_n" -eq "$cross_n" ] || failed+=("aarch64 passed $cross_n tests, host $host_n")
[ "$host_b" -eq "$cross_b" ] || failed+=("aarch64 ran $cross_b criterion benches, host $host_b")

echo "logs: $HOST_LOG, $CROSS_LOG; $(($(date +%s) - start))s"
echo "criterion benches passed (test mode): host $host_b, aarch64 $cross_b"
echo "host: $host_n tests passed"
echo "aarch64: $cross_n tests passed"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'error: %s\n' "${failed[@]}" >&2
    exit 1
fi
