#!/usr/bin/env bash
# Installs what the `dpdk` feature (crate infersteer-dpdk-sys) needs on Debian/Ubuntu:
# DPDK 22.11 headers, libraries and PMD plugins found through pkg-config. With `--bindgen`,
# also libclang for regenerating the bindings (feature infersteer-dpdk-sys/bindgen).
# Idempotent; uses sudo when not root.
set -euo pipefail

PACKAGES=(libdpdk-dev dpdk-dev pkg-config)
if [ "${1:-}" = "--bindgen" ]; then PACKAGES+=(libclang-dev); fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
version=$(pkg-config --modversion libdpdk)
echo "DPDK $version (pkg-config libdpdk); PMDs in $(pkg-config --variable=libdir libdpdk)/dpdk"
pkg-config --atleast-version=22.11 libdpdk || {
    echo "error: DPDK >= 22.11 needed, found $version" >&2
    exit 1
}
