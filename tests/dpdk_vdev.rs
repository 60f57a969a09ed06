//! The DPDK layer on real DPDK without a NIC: one EAL per process (DPDK cannot initialise
//! twice), so this binary has `harness = false` and runs every check in sequence in `main`,
//! printing one line per check and a closing `N passed, M failed`.
//!
//! EAL: `-l 0 --no-huge --no-pci --no-shconf --file-prefix <unique> --no-telemetry` with
//! `--vdev net_null0 --vdev net_ring0`; `net_pcap` and a second `net_ring` are created at run
//! time. After every check the mempool's free count is back at its start: no mbuf leaked,
//! error paths included (TX on a stopped port, a full TX ring, an exhausted pool, a full
//! `rte_ring`). Set `INFERSTEER_DPDK_LOG=debug` for DPDK's own logs.
//! `INFERSTEER_WRITE_FIXTURES=1` rewrites `tests/fixtures/dpdk/udp4.pcap`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // tests may panic

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use infersteer::dpdk::{
    DpdkError, Eal, FiveTuple, FlowOffload, L4Proto, Mbuf, MbufBurst, MbufRing, Mempool,
    MempoolConfig, Port, PortConfig, Ring, RingSync, TscClock, MAX_BURST,
};
use infersteer::wire::{self, emit};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to `System`, which upholds `GlobalAlloc`'s contract; the only
// addition is an atomic counter increment, which cannot affect the returned memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as our caller's: `layout` has non-zero size.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by `System.alloc` with this `layout` (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded unchanged; `ptr`/`layout` come from this allocator, i.e. `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const POOL_SIZE: u32 = 4095;
/// `net_ring`'s internal rings hold 1023 frames (created with 1024 slots).
const NET_RING_CAPACITY: usize = 1023;

struct Ctx<'a> {
    eal: &'a Eal,
    pool: &'a Mempool<'a>,
    start: u32,
    tmp: PathBuf,
}

impl Ctx<'_> {
    /// The leak check every test ends with.
    fn assert_no_leak(&self, test: &str) {
        assert_eq!(
            self.pool.available(),
            self.start,
            "{test}: mbufs leaked (in use: {})",
            self.pool.in_use()
        );
    }
}

fn main() {
    let log = std::env::var("INFERSTEER_DPDK_LOG").unwrap_or_else(|_| "critical".to_owned());
    let prefix = format!("infersteer-test-{}", std::process::id());
    let args = [
        "-l".to_owned(),
        "0".to_owned(),
        "--no-huge".to_owned(),
        "-m".to_owned(),
        "256".to_owned(),
        "--no-pci".to_owned(),
        "--no-shconf".to_owned(),
        "--no-telemetry".to_owned(),
        format!("--file-prefix={prefix}"),
        format!("--log-level={log}"),
        "--vdev".to_owned(),
        "net_null0".to_owned(),
        "--vdev".to_owned(),
        "net_ring0".to_owned(),
    ];
    let init_started = Instant::now();
    let eal = match Eal::init(&args) {
        Ok(eal) => eal,
        Err(e) => {
            println!("EAL init failed: {e}");
            println!("0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    println!("EAL up in {} ms", init_started.elapsed().as_millis());
    let pool = Mempool::new(
        &eal,
        "test_pool",
        MempoolConfig {
            size: POOL_SIZE,
            cache_size: 0, // exact free counts
            ..MempoolConfig::default()
        },
    )
    .unwrap();
    let tmp = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&tmp).unwrap();
    let ctx = Ctx {
        eal: &eal,
        pool: &pool,
        start: pool.available(),
        tmp: tmp.clone(),
    };
    assert_eq!(ctx.start, POOL_SIZE);

    type Test = fn(&Ctx<'_>) -> String;
    let tests: &[(&str, Test)] = &[
        ("eal_second_init_is_an_error", eal_second_init_is_an_error),
        ("error_names_call_and_errno", error_names_call_and_errno),
        ("tsc_clock", tsc_clock),
        ("mbuf_append_data_handles", mbuf_append_data_handles),
        ("burst_retain_drain_clear", burst_retain_drain_clear),
        ("mempool_exhausted", mempool_exhausted),
        ("net_null_rx_tx_loop", net_null_rx_tx_loop),
        ("net_ring_exact_frames", net_ring_exact_frames),
        (
            "net_ring_tx_full_keeps_unsent",
            net_ring_tx_full_keeps_unsent,
        ),
        ("tx_on_stopped_port", tx_on_stopped_port),
        ("port_errors", port_errors),
        (
            "flow_offload_software_fallback",
            flow_offload_software_fallback,
        ),
        ("net_pcap_roundtrip", net_pcap_roundtrip),
        (
            "mbuf_ring_full_frees_rejected",
            mbuf_ring_full_frees_rejected,
        ),
        ("raw_ring_spsc_threads", raw_ring_spsc_threads),
    ];
    let (mut passed, mut failed) = (0usize, 0usize);
    for (name, test) in tests {
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| test(&ctx))) {
            Ok(detail) => {
                passed += 1;
                println!(
                    "test dpdk::{name} ... ok ({detail}; pool {}/{}; {} ms)",
                    ctx.pool.available(),
                    POOL_SIZE,
                    started.elapsed().as_millis()
                );
            }
            Err(_) => {
                failed += 1;
                println!("test dpdk::{name} ... FAILED");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    drop(pool);
    drop(eal);
    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

fn eal_second_init_is_an_error(ctx: &Ctx<'_>) -> String {
    assert!(Eal::is_claimed());
    let again = Eal::init(&["-l", "0"]);
    assert_eq!(again.err(), Some(DpdkError::EalAlreadyInitialized));
    assert_eq!(ctx.eal.lcore_id(), Some(0));
    assert!(ctx.eal.port_count() >= 2);
    format!("second init refused; {} ports", ctx.eal.port_count())
}

fn error_names_call_and_errno(_ctx: &Ctx<'_>) -> String {
    let e = DpdkError::Call {
        call: "rte_eth_dev_configure",
        errno: 22,
    };
    let text = e.to_string();
    assert_eq!(
        text,
        "rte_eth_dev_configure failed: Invalid argument (errno 22)"
    );
    assert_eq!(e.errno(), Some(22));
    text
}

fn tsc_clock(ctx: &Ctx<'_>) -> String {
    let clock = TscClock::new(ctx.eal);
    let a = clock.now();
    let b = clock.now();
    assert!(clock.hz() > 1_000_000);
    assert!(b >= a);
    assert_eq!(clock.ticks_to_ns(clock.hz()), 1_000_000_000);
    format!("{} MHz", clock.hz() / 1_000_000)
}

/// `n` distinct Ethernet/IPv4/UDP frames with `n`-dependent payload lengths.
fn udp_frames(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let payload: Vec<u8> = (0..(16 + i * 7) % 300).map(|b| (b + i) as u8).collect();
            let spec = emit::FrameSpec::udp_v4(
                [10, 0, 0, 1],
                [10, 0, 1, (i % 250) as u8],
                40000 + i as u16,
                8080,
                &payload,
            );
            let mut buf = vec![0u8; 2048];
            let len = emit::emit_frame(&spec, &mut buf).unwrap();
            buf.truncate(len);
            buf
        })
        .collect()
}

fn mbuf_from(pool: &Mempool<'_>, bytes: &[u8]) -> Mbuf {
    let mut m = pool.alloc().expect("pool has mbufs");
    m.append(bytes).unwrap();
    m
}

fn mbuf_append_data_handles(ctx: &Ctx<'_>) -> String {
    let frame = &udp_frames(1)[0];
    let mut m = mbuf_from(ctx.pool, frame);
    assert_eq!(m.data(), frame.as_slice());
    assert_eq!(usize::from(m.data_len()), frame.len());
    assert_eq!(m.pkt_len() as usize, frame.len());
    assert_eq!(m.segments(), 1);
    assert_eq!(m.rss_hash(), None);
    m.data_mut()[0] = 0xee;
    assert_eq!(m.data()[0], 0xee);
    let summary = wire::parse_frame(m.data()).map(|s| s.tuple.is_some());
    assert_eq!(summary.ok(), Some(true));

    // Too big for the tailroom: refused, mbuf unchanged.
    let big = vec![0u8; 4096];
    assert!(matches!(m.append(&big), Err(DpdkError::NoTailroom { .. })));
    assert_eq!(usize::from(m.data_len()), frame.len());

    // u64 handle round trip (what a GPU-queue descriptor holds).
    assert_eq!(ctx.pool.available(), ctx.start - 1);
    let handle = m.into_handle();
    assert_ne!(handle, 0);
    assert_eq!(ctx.pool.available(), ctx.start - 1);
    #[allow(unsafe_code)]
    // SAFETY: `handle` comes from `into_handle` just above and is turned back once.
    let back = unsafe { Mbuf::from_handle(handle) }.unwrap();
    assert_eq!(back.data_len() as usize, frame.len());
    drop(back);
    ctx.assert_no_leak("mbuf_append_data_handles");
    format!("{}-byte frame, handle round trip", frame.len())
}

fn burst_retain_drain_clear(ctx: &Ctx<'_>) -> String {
    let mut burst = MbufBurst::new();
    ctx.pool.alloc_bulk(&mut burst, MAX_BURST).unwrap();
    assert!(burst.is_full());
    assert_eq!(ctx.pool.available(), ctx.start - MAX_BURST as u32);
    // One more does not fit: handed back, then freed by its drop.
    let extra = ctx.pool.alloc().unwrap();
    assert!(burst.push(extra).is_err());
    for (i, m) in burst.as_mut_slice().iter_mut().enumerate() {
        m.append(&[i as u8; 4]).unwrap();
    }
    // Drops (odd first bytes) are freed in one bulk call; order of the rest is kept.
    burst.retain(|m| m.data()[0] % 2 == 0);
    assert_eq!(burst.len(), 16);
    assert!(burst
        .as_slice()
        .iter()
        .enumerate()
        .all(|(i, m)| m.data()[0] == (2 * i) as u8));
    assert_eq!(ctx.pool.available(), ctx.start - 16);
    // Admitted ones become handles; an early-dropped drain frees the rest in bulk.
    let mut handles = Vec::new();
    for m in burst.drain().take(5) {
        handles.push(m.into_handle());
    }
    assert!(burst.is_empty());
    assert_eq!(ctx.pool.available(), ctx.start - 5);
    for h in handles {
        #[allow(unsafe_code)]
        // SAFETY: each handle comes from `into_handle` above and is turned back once.
        drop(unsafe { Mbuf::from_handle(h) });
    }
    let m = ctx.pool.alloc().unwrap();
    burst.push(m).unwrap();
    assert!(burst.swap_remove(3).is_none());
    drop(burst.swap_remove(0));
    ctx.pool.alloc_bulk(&mut burst, 3).unwrap();
    burst.clear();
    assert!(burst.is_empty());
    ctx.assert_no_leak("burst_retain_drain_clear");
    "retain/drain/swap_remove/clear".to_owned()
}

fn mempool_exhausted(ctx: &Ctx<'_>) -> String {
    let mut all = Vec::new();
    while let Some(m) = ctx.pool.alloc() {
        all.push(m);
    }
    assert_eq!(all.len(), POOL_SIZE as usize);
    assert_eq!(ctx.pool.available(), 0);
    assert!(ctx.pool.alloc().is_none());
    let mut burst = MbufBurst::new();
    let err = ctx.pool.alloc_bulk(&mut burst, 4).unwrap_err();
    assert_eq!(err.errno(), Some(105)); // ENOBUFS from the ring mempool driver
    assert!(burst.is_empty());
    assert!(matches!(
        ctx.pool.alloc_bulk(&mut burst, MAX_BURST + 1),
        Err(DpdkError::InvalidArgument { .. })
    ));
    drop(all);
    ctx.assert_no_leak("mempool_exhausted");
    format!("{POOL_SIZE} allocated, then None and {err}")
}

fn net_null_rx_tx_loop(ctx: &Ctx<'_>) -> String {
    let mut port = Port::by_name(ctx.eal, "net_null0").unwrap();
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    port.start().unwrap();
    assert!(port.link().unwrap().up);
    let _mac = port.mac().unwrap();
    let (rx_total, tx_total, unsent, allocs, elapsed);
    {
        let mut rx = port.rx_queue(0).unwrap();
        let mut tx = port.tx_queue(0).unwrap();
        let mut burst = MbufBurst::new();
        let (mut r, mut t, mut u) = (0u64, 0u64, 0u64);
        let iterations = 100_000;
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let started = Instant::now();
        for _ in 0..iterations {
            r += rx.rx_burst(&mut burst) as u64;
            t += tx.tx_burst(&mut burst) as u64;
            u += burst.len() as u64;
            burst.clear();
        }
        elapsed = started.elapsed();
        allocs = ALLOCATIONS.load(Ordering::SeqCst) - before;
        (rx_total, tx_total, unsent) = (r, t, u);
        assert_eq!(rx_total, iterations * MAX_BURST as u64);
    }
    assert_eq!(allocs, 0, "the burst loop allocated");
    assert_eq!(rx_total, tx_total + unsent);
    let stats = port.stats().unwrap();
    assert_eq!(stats.rx_packets, rx_total);
    assert_eq!(stats.tx_packets, tx_total);
    port.stop().unwrap();
    drop(port);
    ctx.assert_no_leak("net_null_rx_tx_loop");
    let ns = elapsed.as_nanos() as f64 / (rx_total as f64);
    format!("{rx_total} rx, {tx_total} tx, 0 allocations, {ns:.1} ns/pkt rx+tx (debug build)")
}

fn net_ring_exact_frames(ctx: &Ctx<'_>) -> String {
    let mut port = Port::by_name(ctx.eal, "net_ring0").unwrap();
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    port.start().unwrap();
    let frames = udp_frames(100);
    let mut received = Vec::new();
    {
        let mut rx = port.rx_queue(0).unwrap();
        let mut tx = port.tx_queue(0).unwrap();
        for chunk in frames.chunks(MAX_BURST) {
            let mut burst = MbufBurst::new();
            for f in chunk {
                burst.push(mbuf_from(ctx.pool, f)).unwrap();
            }
            assert_eq!(tx.tx_burst(&mut burst), chunk.len());
            assert!(burst.is_empty());
        }
        let mut burst = MbufBurst::new();
        while rx.rx_burst(&mut burst) > 0 {
            for m in burst.drain() {
                received.push(m.data().to_vec());
            }
        }
    }
    assert_eq!(received, frames, "net_ring changed the frames");
    let stats = port.stats().unwrap();
    assert_eq!(stats.tx_packets, frames.len() as u64);
    assert_eq!(stats.rx_packets, frames.len() as u64);
    drop(port);
    ctx.assert_no_leak("net_ring_exact_frames");
    format!("{} frames out and back byte-identical", frames.len())
}

fn net_ring_tx_full_keeps_unsent(ctx: &Ctx<'_>) -> String {
    let mut port = Port::by_name(ctx.eal, "net_ring0").unwrap();
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    port.start().unwrap();
    let frame = &udp_frames(1)[0];
    let mut sent = 0usize;
    let kept_back;
    {
        let mut rx = port.rx_queue(0).unwrap();
        let mut tx = port.tx_queue(0).unwrap();
        loop {
            let mut burst = MbufBurst::new();
            while !burst.is_full() {
                burst.push(mbuf_from(ctx.pool, frame)).unwrap();
            }
            let n = tx.tx_burst(&mut burst);
            sent += n;
            // The unsent ones are still ours, in the burst: dropping it frees them.
            assert_eq!(burst.len(), MAX_BURST - n);
            if n < MAX_BURST {
                kept_back = burst.len();
                // A retry on a full ring sends nothing and loses nothing.
                assert_eq!(tx.tx_burst(&mut burst), 0);
                assert_eq!(burst.len(), kept_back);
                break;
            }
        }
        assert_eq!(sent, NET_RING_CAPACITY);
        assert_eq!(
            ctx.pool.available() as usize,
            ctx.start as usize - NET_RING_CAPACITY
        );
        let mut burst = MbufBurst::new();
        let mut drained = 0;
        loop {
            let n = rx.rx_burst(&mut burst);
            if n == 0 {
                break;
            }
            drained += n;
            burst.clear();
        }
        assert_eq!(drained, sent);
    }
    drop(port);
    ctx.assert_no_leak("net_ring_tx_full_keeps_unsent");
    format!("{sent} sent until full, {kept_back} handed back and freed")
}

fn tx_on_stopped_port(ctx: &Ctx<'_>) -> String {
    // A second ring port created at run time, configured but never started.
    let mut port = Port::create_vdev(ctx.eal, "net_ring1", "").unwrap();
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    assert!(!port.is_started());
    {
        let mut tx = port.tx_queue(0).unwrap();
        let mut rx = port.rx_queue(0).unwrap();
        let mut burst = MbufBurst::new();
        ctx.pool.alloc_bulk(&mut burst, 8).unwrap();
        assert_eq!(tx.tx_burst(&mut burst), 0);
        assert_eq!(burst.len(), 8);
        let mut empty = MbufBurst::new();
        assert_eq!(rx.rx_burst(&mut empty), 0);
    }
    // Started then stopped again: same.
    port.start().unwrap();
    port.stop().unwrap();
    {
        let mut tx = port.tx_queue(0).unwrap();
        let mut burst = MbufBurst::new();
        ctx.pool.alloc_bulk(&mut burst, 8).unwrap();
        assert_eq!(tx.tx_burst(&mut burst), 0);
    }
    drop(port); // closes the port and removes the vdev
    assert!(Port::by_name(ctx.eal, "net_ring1").is_err());
    ctx.assert_no_leak("tx_on_stopped_port");
    "stopped port sent 0 of 8 twice, all freed; vdev removed".to_owned()
}

fn port_errors(ctx: &Ctx<'_>) -> String {
    let err = Port::by_name(ctx.eal, "net_nope0").unwrap_err();
    assert!(matches!(
        err,
        DpdkError::Call {
            call: "rte_eth_dev_get_port_by_name",
            ..
        }
    ));
    assert!(Port::by_id(ctx.eal, 31).is_err());
    let mut port = Port::by_name(ctx.eal, "net_null0").unwrap();
    assert!(port.start().is_err()); // not configured
    let too_many = PortConfig {
        rx_queues: 65,
        ..PortConfig::default()
    };
    assert!(matches!(
        port.configure(&too_many, ctx.pool),
        Err(DpdkError::InvalidArgument { .. })
    ));
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    let q = port.rx_queue(0).unwrap();
    assert_eq!(
        port.rx_queue(0).err(),
        Some(DpdkError::QueueInUse { queue: 0 })
    );
    assert!(port.rx_queue(1).is_err());
    drop(q);
    assert!(port.rx_queue(0).is_ok());
    ctx.assert_no_leak("port_errors");
    format!("{err}")
}

fn flow_offload_software_fallback(ctx: &Ctx<'_>) -> String {
    let mut port = Port::by_name(ctx.eal, "net_null0").unwrap();
    let config = PortConfig {
        rx_queues: 2,
        tx_queues: 2,
        rss: true,
        ..PortConfig::default()
    };
    port.configure(&config, ctx.pool).unwrap();
    port.start().unwrap();
    let v4 = FiveTuple {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        src_port: 40000,
        dst_port: 443,
        proto: L4Proto::Tcp,
    };
    let v6 = FiveTuple {
        src: IpAddr::V6(Ipv6Addr::LOCALHOST),
        dst: IpAddr::V6(Ipv6Addr::LOCALHOST),
        src_port: 40000,
        dst_port: 8080,
        proto: L4Proto::Udp,
    };
    assert!(matches!(
        port.steer_flow(&v4, 1).unwrap(),
        FlowOffload::Software
    ));
    assert!(matches!(
        port.steer_flow(&v6, 0).unwrap(),
        FlowOffload::Software
    ));
    assert_eq!(port.flow_counts(), (0, 2));
    assert!(matches!(
        port.steer_flow(&v4, 2),
        Err(DpdkError::InvalidArgument { .. })
    ));
    let mixed = FiveTuple { dst: v6.dst, ..v4 };
    assert!(port.steer_flow(&mixed, 0).is_err());
    let rss = port.rss_enabled();
    drop(port);
    ctx.assert_no_leak("flow_offload_software_fallback");
    format!(
        "net_null: 2 flows left to software, RSS {}",
        if rss { "on" } else { "off" }
    )
}

// --- pcap ---------------------------------------------------------------------------------

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap();
}

/// The frames of a little-endian pcap file (micro- or nanosecond timestamps).
fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap();
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    assert!(
        magic == 0xa1b2_c3d4 || magic == 0xa1b2_3c4d,
        "pcap magic {magic:#x}"
    );
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let incl = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16;
        frames.push(data[at..at + incl].to_vec());
        at += incl;
    }
    frames
}

fn net_pcap_roundtrip(ctx: &Ctx<'_>) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dpdk/udp4.pcap");
    let frames = udp_frames(20);
    if std::env::var_os("INFERSTEER_WRITE_FIXTURES").is_some() {
        write_pcap(&fixture, &frames);
    }
    let input = read_pcap(&fixture);
    assert_eq!(
        input, frames,
        "fixture out of date: INFERSTEER_WRITE_FIXTURES=1"
    );
    let out = ctx.tmp.join("out.pcap");
    let args = format!("rx_pcap={},tx_pcap={}", fixture.display(), out.display());
    let mut port = Port::create_vdev(ctx.eal, "net_pcap0", &args).unwrap();
    port.configure(&PortConfig::default(), ctx.pool).unwrap();
    port.start().unwrap();
    let mut got = 0;
    {
        let mut rx = port.rx_queue(0).unwrap();
        let mut tx = port.tx_queue(0).unwrap();
        let mut burst = MbufBurst::new();
        let mut idle = 0;
        while idle < 100 && got < input.len() {
            let n = rx.rx_burst(&mut burst);
            if n == 0 {
                idle += 1;
                continue;
            }
            for (m, want) in burst.as_slice().iter().zip(&input[got..]) {
                assert_eq!(m.data(), want.as_slice());
            }
            got += n;
            while !burst.is_empty() {
                assert!(tx.tx_burst(&mut burst) > 0, "pcap tx refused");
            }
        }
    }
    assert_eq!(got, input.len());
    let stats = port.stats().unwrap();
    assert_eq!(stats.rx_packets, input.len() as u64);
    drop(port); // stop + close flush the output pcap
    let output = read_pcap(&out);
    assert_eq!(output, input, "pcap out differs from pcap in");
    ctx.assert_no_leak("net_pcap_roundtrip");
    format!(
        "{} frames from udp4.pcap transmitted byte-identical",
        input.len()
    )
}

// --- rings ----------------------------------------------------------------------------------

fn mbuf_ring_full_frees_rejected(ctx: &Ctx<'_>) -> String {
    let ring = MbufRing::new(ctx.eal, "test_mbuf_ring", 20).unwrap();
    assert_eq!(ring.capacity(), 20);
    let mut burst = MbufBurst::new();
    ctx.pool.alloc_bulk(&mut burst, MAX_BURST).unwrap();
    for (i, m) in burst.as_mut_slice().iter_mut().enumerate() {
        m.append(&[i as u8]).unwrap();
    }
    assert_eq!(ring.enqueue_burst(&mut burst), 20);
    assert_eq!(burst.len(), 12, "rejected mbufs stay in the burst");
    assert_eq!(burst.as_slice()[0].data(), &[20]);
    drop(burst); // frees the 12 rejected ones in bulk
    assert_eq!(ctx.pool.available(), ctx.start - 20);
    let mut out = MbufBurst::new();
    assert_eq!(ring.dequeue_burst(&mut out), 20);
    assert!(out
        .as_slice()
        .iter()
        .enumerate()
        .all(|(i, m)| m.data() == [i as u8]));
    // Leave some inside: dropping the ring frees them.
    assert_eq!(ring.enqueue_burst(&mut out), 20);
    assert_eq!(ring.count(), 20);
    drop(ring);
    ctx.assert_no_leak("mbuf_ring_full_frees_rejected");
    "20 of 32 enqueued, 12 rejected and freed, 20 freed with the ring".to_owned()
}

fn raw_ring_spsc_threads(ctx: &Ctx<'_>) -> String {
    // Raw u64 handles through a split ring across two threads.
    let mut ring = Ring::new(
        ctx.eal,
        "test_raw_ring",
        64,
        RingSync::SingleProducerSingleConsumer,
    )
    .unwrap();
    assert_eq!(ring.sync(), RingSync::SingleProducerSingleConsumer);
    const N: u64 = 100_000;
    let (mut prod, mut cons) = ring.split();
    let sum = std::thread::scope(|s| {
        s.spawn(move || {
            let mut next = 1u64;
            let mut buf = [0u64; 32];
            while next <= N {
                let k = (N + 1 - next).min(32) as usize;
                for (j, slot) in buf[..k].iter_mut().enumerate() {
                    *slot = next + j as u64;
                }
                let n = prod.enqueue_burst(&buf[..k]);
                if n == 0 {
                    // `-l 0` pins the main thread, and so both threads, to one core.
                    std::thread::yield_now();
                }
                next += n as u64;
            }
        });
        let consumer = s.spawn(move || {
            let (mut seen, mut sum, mut expect) = (0u64, 0u64, 1u64);
            let mut buf = [0u64; 32];
            while seen < N {
                let n = cons.dequeue_burst(&mut buf);
                if n == 0 {
                    std::thread::yield_now();
                }
                for &h in &buf[..n] {
                    assert_eq!(h, expect, "FIFO order");
                    expect += 1;
                    sum += h;
                }
                seen += n as u64;
            }
            sum
        });
        consumer.join().unwrap()
    });
    assert_eq!(sum, N * (N + 1) / 2);
    // Shared MPMC use and an mbuf handle through the raw ring.
    let m = ctx.pool.alloc().unwrap();
    assert_eq!(ring.enqueue_burst(&[m.into_handle()]), 1);
    let mut out = [0u64; 4];
    assert_eq!(ring.dequeue_burst(&mut out), 1);
    #[allow(unsafe_code)]
    // SAFETY: the only handle in the ring came from `into_handle` just above.
    drop(unsafe { Mbuf::from_handle(out[0]) });
    let full: Vec<u64> = (1..=100).collect();
    assert_eq!(ring.enqueue_burst(&full), 64);
    assert_eq!(ring.count(), 64);
    assert_eq!(ring.free_count(), 0);
    drop(ring);
    ctx.assert_no_leak("raw_ring_spsc_threads");
    format!("{N} handles in order across threads")
}
