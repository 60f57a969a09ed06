#![allow(missing_docs)]
use infersteer::wire::{self, emit::{self, FrameSpec, TunnelProto}};
use std::hint::black_box;
fn main(){
    let mut frames = vec![];
    for i in 0..32u8 {
        let s = FrameSpec::udp_v4([10,0,0,i],[10,0,1,1],4000+i as u16,8080,b"hello world this is payload");
        let s = if std::env::args().nth(1).is_some() { s.in_tunnel(TunnelProto::Vxlan{vni:42},[1,1,1,1],[2,2,2,2]) } else { s };
        let mut b = vec![0u8;512]; let n = emit::emit_frame(&s,&mut b).unwrap(); b.truncate(n); frames.push(b);
    }
    let iters: u64 = std::env::var("IT").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000);
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    let mut out = [wire::FrameSummary::EMPTY; 32];
    for _ in 0..iters { for (f, o) in frames.iter().zip(out.iter_mut()) { if wire::parse_frame_into(black_box(f), o).is_ok() { acc += 1; } } black_box(&mut out); }
    let el = t.elapsed();
    println!("{:.2} ns/frame acc={}", el.as_nanos() as f64 / (iters as f64 * 32.0), acc); mini_main(&frames, iters);
}
#[derive(Clone, Copy, Default)]
pub struct Mini { src: u32, dst: u32, sp: u16, dp: u16, proto: u8, l3: u16, l4: u16, pay: u16, end: u16 }
#[inline(never)]
pub fn mini(f: &[u8], o: &mut Mini) -> bool {
    if f.len() < 42 { return false; }
    if u16::from_be_bytes([f[12], f[13]]) != 0x0800 { return false; }
    let ihl = (f[14] & 0xf) as usize * 4; if f[14] >> 4 != 4 || ihl < 20 { return false; }
    let tot = u16::from_be_bytes([f[16], f[17]]) as usize; if tot < ihl || 14 + tot > f.len() { return false; }
    o.proto = f[23]; o.src = u32::from_be_bytes([f[26],f[27],f[28],f[29]]); o.dst = u32::from_be_bytes([f[30],f[31],f[32],f[33]]);
    let l4 = 14 + ihl; let Some(u) = f.get(l4..l4+8) else { return false };
    o.sp = u16::from_be_bytes([u[0],u[1]]); o.dp = u16::from_be_bytes([u[2],u[3]]);
    o.l3 = 14; o.l4 = l4 as u16; o.pay = (l4 + 8) as u16; o.end = (14 + tot) as u16; true
}
pub fn mini_main(frames: &[Vec<u8>], iters: u64) {
    let mut out = [Mini::default(); 32]; let mut acc = 0u64;
    let t = std::time::Instant::now();
    for _ in 0..iters { for (f, o) in frames.iter().zip(out.iter_mut()) { if mini(std::hint::black_box(f), o) { acc += 1; } } std::hint::black_box(&mut out); }
    println!("mini {:.2} ns/frame acc={}", t.elapsed().as_nanos() as f64 / (iters as f64 * 32.0), acc);
}
