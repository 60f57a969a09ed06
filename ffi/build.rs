//! Build script of `infersteer-dpdk-sys`.
//!
//! 1. Finds DPDK 22.11 (or a later release of the same ABI) with pkg-config (`libdpdk`) and
//!    emits its link flags; fails with the Debian packages to install when it is missing.
//! 2. Compiles the C shim (`shim/shim.c`) with the cflags pkg-config reports, so DPDK's
//!    `static inline` fast path (`rte_eth_rx_burst`, `rte_pktmbuf_alloc`, ...) becomes callable.
//! 3. Puts the bindings in `OUT_DIR/bindings.rs`: a copy of the pre-generated
//!    `vendor/dpdk-22.11/bindings.rs` by default, or (feature `bindgen`) fresh bindgen output;
//!    with `INFERSTEER_WRITE_VENDOR=1` the fresh output also replaces the vendored file.
//! 4. Exports the PMD plugin directory as `INFERSTEER_DPDK_PMD_DIR` for `PMD_DIR`.

use std::env;
use std::path::{Path, PathBuf};

const DPDK_MIN_VERSION: &str = "22.11";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let vendored = manifest_dir.join("../vendor/dpdk-22.11/bindings.rs");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-changed=shim/bindings.h");
    println!("cargo:rerun-if-changed={}", vendored.display());
    println!("cargo:rerun-if-env-changed=INFERSTEER_WRITE_VENDOR");

    let dpdk = match pkg_config::Config::new()
        .atleast_version(DPDK_MIN_VERSION)
        .cargo_metadata(true)
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(err) => {
            eprintln!(
                "\ninfersteer-dpdk-sys: DPDK >= {DPDK_MIN_VERSION} was not found with pkg-config \
                 (`libdpdk`).\n\
                 Install it (Debian/Ubuntu): apt-get install dpdk-dev libdpdk-dev pkg-config\n\
                 and, for the `bindgen` feature, libclang-dev as well.\n\
                 A DPDK built from source needs PKG_CONFIG_PATH pointing at its libdpdk.pc.\n\
                 Cross-compiling: install libdpdk-dev for the target and set \
                 PKG_CONFIG_ALLOW_CROSS=1 and PKG_CONFIG_SYSROOT_DIR, or leave this crate out \
                 (`cargo test --workspace --exclude infersteer-dpdk-sys`).\n\
                 pkg-config said: {err}\n"
            );
            std::process::exit(1);
        }
    };

    // `rte_vdev_init`/`rte_vdev_uninit` live in the vdev bus driver, which `libdpdk.pc` lists
    // only for static links (a plugin in Debian; the net PMDs depend on the same shared
    // object, so linking it by name loads nothing twice).
    println!("cargo:rustc-link-lib=dylib=rte_bus_vdev");

    // The shim: real symbols for DPDK's static inline functions. DPDK's cflags include
    // `-include rte_config.h` and `-march=...`, which pkg_config's `include_paths` drops, so the
    // raw `--cflags` output is passed through.
    let cflags = pkg_config_output(&["--cflags", "libdpdk"]);
    let mut build = cc::Build::new();
    build.file("shim/shim.c").include("shim").warnings(true);
    for flag in cflags.split_whitespace() {
        build.flag(flag);
    }
    build.compile("infersteer_dpdk_shim");

    // The PMD plugin directory (`net_null`, `net_ring`, `net_pcap`, ... are plugins in Debian).
    let libdir = pkg_config_output(&["--variable=libdir", "libdpdk"]);
    let version = pkg_config_output(&["--modversion", "libdpdk"]);
    let pmd_dir = pmd_dir(Path::new(libdir.trim()), version.trim());
    println!(
        "cargo:rustc-env=INFERSTEER_DPDK_PMD_DIR={}",
        pmd_dir.display()
    );
    println!("cargo:rustc-env=INFERSTEER_DPDK_VERSION={}", version.trim());
    println!("cargo:pmd_dir={}", pmd_dir.display());
    println!("cargo:version={}", version.trim());

    let target = out_dir.join("bindings.rs");
    generate_bindings(&dpdk, &target, &vendored);
}

/// `libdir/dpdk/pmds-<ABI>`: the ABI is the DPDK major version + 1 (22.11 ships ABI 23.0); the
/// directory is looked up rather than computed when it exists.
fn pmd_dir(libdir: &Path, version: &str) -> PathBuf {
    let base = libdir.join("dpdk");
    if let Ok(entries) = std::fs::read_dir(&base) {
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("pmds-"))
            })
            .collect();
        found.sort();
        if let Some(last) = found.pop() {
            return last;
        }
    }
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(22);
    base.join(format!("pmds-{}.0", major + 1))
}

fn pkg_config_output(args: &[&str]) -> String {
    let exe = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    match std::process::Command::new(exe).args(args).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => String::new(),
    }
}

#[cfg(not(feature = "bindgen"))]
fn generate_bindings(_dpdk: &pkg_config::Library, target: &Path, vendored: &Path) {
    if let Err(err) = std::fs::copy(vendored, target) {
        eprintln!(
            "infersteer-dpdk-sys: cannot copy the pre-generated bindings {} to {}: {err}\n\
             Regenerate them with `--features infersteer-dpdk-sys/bindgen` (needs libclang-dev).",
            vendored.display(),
            target.display()
        );
        std::process::exit(1);
    }
}

#[cfg(feature = "bindgen")]
fn generate_bindings(dpdk: &pkg_config::Library, target: &Path, vendored: &Path) {
    let mut clang_args: Vec<String> = dpdk
        .include_paths
        .iter()
        .map(|p| format!("-I{}", p.display()))
        .collect();
    // `-include rte_config.h` and the `-march` flag matter for the headers' #ifdefs.
    let cflags = pkg_config_output(&["--cflags", "libdpdk"]);
    let mut words = cflags.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-include" {
            if let Some(file) = words.next() {
                clang_args.push("-include".to_owned());
                clang_args.push(file.to_owned());
            }
        } else if w.starts_with("-march") || w.starts_with("-mcpu") {
            clang_args.push(w.to_owned());
        }
    }

    let mut builder = bindgen::Builder::default()
        .header("shim/bindings.h")
        .clang_args(&clang_args)
        .use_core()
        .ctypes_prefix("::core::ffi")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .derive_default(true)
        .derive_debug(true)
        .layout_tests(true)
        .generate_comments(false)
        .prepend_enum_name(false)
        .size_t_is_usize(true)
        .merge_extern_blocks(true)
        .sort_semantically(true)
        // Types only ever handled by pointer stay incomplete, so their cache-line-size-dependent
        // layouts (64 bytes on x86-64, 128 on Debian's generic arm64 build) never reach Rust.
        // Their fields are read through the shim.
        .blocklist_type("rte_mbuf")
        .blocklist_type("rte_mempool")
        .blocklist_type("rte_ring")
        .blocklist_type("rte_hash")
        .blocklist_type("rte_flow")
        // Cache-line-aligned types (`__rte_cache_aligned`): 64-byte aligned on x86-64, 128 on
        // Debian's generic arm64 build. Nothing here handles them by value, so they stay
        // incomplete and the vendored file fits both architectures.
        .blocklist_type("rte_mempool_cache")
        .blocklist_type("rte_mempool_info")
        .blocklist_type("rte_mempool_ops")
        .blocklist_type("rte_mempool_ops_table")
        .blocklist_type("rte_eth_rxq_info")
        .blocklist_type("rte_eth_txq_info")
        .blocklist_type("rte_eth_fp_ops")
        .blocklist_type("rte_ring_.*")
        .blocklist_type("rte_rcu_qsbr.*")
        .blocklist_item("rte_eth_fp_ops")
        .blocklist_item("rte_mempool_ops_table")
        .raw_line("macro_rules! incomplete { ($($(#[$m:meta])* $name:ident;)*) => { $($(#[$m])* #[repr(C)] pub struct $name { _opaque: [u8; 0] })* }; }")
        .raw_line("incomplete! {")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_mempool_cache;")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_mempool_info;")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_mempool_ops;")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_eth_rxq_info;")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_eth_txq_info;")
        .raw_line("    /// Cache-aligned; only handled by pointer.")
        .raw_line("    rte_rcu_qsbr;")
        .raw_line("    /// Only handled by pointer.")
        .raw_line("    rte_ring_zc_data;")
        .raw_line("}")
        .raw_line("/// An mbuf; only handled by pointer (fields are read through the shim).")
        .raw_line("#[repr(C)] pub struct rte_mbuf { _opaque: [u8; 0] }")
        .raw_line("/// A mempool; only handled by pointer.")
        .raw_line("#[repr(C)] pub struct rte_mempool { _opaque: [u8; 0] }")
        .raw_line("/// An rte_ring; only handled by pointer.")
        .raw_line("#[repr(C)] pub struct rte_ring { _opaque: [u8; 0] }")
        .raw_line("/// An rte_hash table; only handled by pointer.")
        .raw_line("#[repr(C)] pub struct rte_hash { _opaque: [u8; 0] }")
        .raw_line("/// An rte_flow rule; only handled by pointer.")
        .raw_line("#[repr(C)] pub struct rte_flow { _opaque: [u8; 0] }")
        // DPDK's packed protocol headers that bindgen cannot lay out (packed structs holding
        // aligned unions): kept as opaque blobs of the right size; flow patterns are built in
        // the shim in C.
        .opaque_type("rte_l2tpv2_.*_hdr")
        .opaque_type("rte_gtp_psc_generic_hdr")
        .opaque_type("rte_gtp_hdr_ext_word")
        // `per_lcore__rte_errno` is a thread-local C variable: Rust cannot bind it portably,
        // read it with `infersteer_errno()` from the shim instead.
        .blocklist_item("per_lcore__.*");
    for f in [
        "rte_eal_.*",
        "rte_eth_.*",
        "rte_pktmbuf_.*",
        "rte_mbuf_.*",
        "rte_mempool_.*",
        "rte_ring_.*",
        "rte_flow_.*",
        "rte_lcore_.*",
        "rte_strerror",
        "rte_hash_.*",
        "rte_meter_.*",
        "rte_socket_id",
        "rte_vdev_.*",
        "rte_get_tsc_hz",
        "rte_delay_us_.*",
    ] {
        builder = builder.allowlist_function(f);
    }
    for t in [
        "rte_eth_.*",
        "rte_flow_.*",
        "rte_mbuf_.*",
        "rte_pktmbuf_.*",
        "rte_meter_.*",
        "rte_hash_parameters",
        "rte_ether_addr",
        "rte_color",
    ] {
        builder = builder.allowlist_type(t);
    }
    // `RTE_MAX_LCORE` (128 on x86-64, 256 on arm64) and `RTE_CACHE_LINE_SIZE` (64 / 128) are
    // left out so the vendored file fits both architectures; see the blocklist above.
    for v in [
        "RTE_ETH_.*",
        "RTE_MBUF_.*",
        "RTE_FLOW_.*",
        "RTE_RING_.*",
        "RING_F_.*",
        "RTE_MEMPOOL_.*",
        "MEMPOOL_F_.*",
        "RTE_PKTMBUF_HEADROOM",
        "RTE_MAX_ETHPORTS",
        "RTE_ETHER_.*",
        "RTE_HASH_.*",
        "SOCKET_ID_ANY",
        "LCORE_ID_ANY",
        "E_RTE_.*",
        "RTE_MAX_RXTX_INTR_VEC_ID",
    ] {
        builder = builder.allowlist_var(v);
    }
    let bindings = match builder.generate() {
        Ok(b) => b,
        Err(err) => {
            eprintln!(
                "infersteer-dpdk-sys: bindgen failed: {err}\n\
                 Is libclang installed? Debian: apt-get install libclang-dev"
            );
            std::process::exit(1);
        }
    };
    let header = "// Generated by bindgen from DPDK 22.11 headers (infersteer-dpdk-sys, feature \
                  `bindgen`).\n// Refresh: INFERSTEER_WRITE_VENDOR=1 cargo build -p \
                  infersteer-dpdk-sys --features bindgen\n";
    let text = format!("{header}{bindings}");
    if let Err(err) = std::fs::write(target, &text) {
        eprintln!(
            "infersteer-dpdk-sys: cannot write {}: {err}",
            target.display()
        );
        std::process::exit(1);
    }
    if env::var_os("INFERSTEER_WRITE_VENDOR").is_some_and(|v| v == "1") {
        if let Some(dir) = vendored.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(err) = std::fs::write(vendored, &text) {
            eprintln!(
                "infersteer-dpdk-sys: cannot write {}: {err}",
                vendored.display()
            );
            std::process::exit(1);
        }
        println!("cargo:warning=wrote {}", vendored.display());
    }
}
