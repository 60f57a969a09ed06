//! The reassembly pool as sequences of operations (open, push, release, read, age, with stale
//! and forged slot ids) against a simple model: a `Vec` of bytes per open slot, placed by the
//! rules in `l7::reassembly`'s module docs (in-order bytes only; overlaps must match; bytes
//! before the slot's first sequence number ignored; what does not fit cut off). Every outcome,
//! the bytes held and the next sequence number must agree, and no slot is ever reached
//! through an id that was released.

use arbitrary::{Arbitrary, Unstructured};
use infersteer::l7::reassembly::{Outcome, Pool, SlotId};

const SLOTS: usize = 4;
const BYTES: usize = 64;

#[derive(Arbitrary, Debug)]
enum Op {
    Open {
        key: u8,
        isn: u32,
    },
    Push {
        which: u8,
        at: i16,
        len: u8,
        fill: u8,
        flip: Option<u8>,
    },
    PushFar {
        which: u8,
        seq: u32,
        len: u8,
    },
    Release {
        which: u8,
    },
    Age {
        ns: u16,
    },
}

struct Slot {
    id: SlotId,
    key: u8,
    isn: u32,
    bytes: Vec<u8>,
    live: bool,
    opened: u64,
}

/// What the model says a push of `payload` at `seq` does to `held` (from `isn`).
fn place(held: &mut Vec<u8>, isn: u32, seq: u32, payload: &[u8]) -> Result<usize, Outcome> {
    if payload.is_empty() {
        return Ok(0);
    }
    let end = isn.wrapping_add(held.len() as u32);
    let gap = seq.wrapping_sub(end) as i32 as i64;
    if gap > 0 {
        return Err(if held.len() >= BYTES {
            Outcome::TooLong
        } else {
            Outcome::OutOfOrder
        });
    }
    let start = held.len() as i64 + gap;
    for (k, b) in payload.iter().enumerate() {
        let at = start + k as i64;
        if at >= 0 && (at as usize) < held.len() && held[at as usize] != *b {
            return Err(Outcome::Conflict);
        }
    }
    let stop = start + payload.len() as i64;
    if stop <= held.len() as i64 {
        return Ok(0);
    }
    let new = &payload[(held.len() as i64 - start) as usize..];
    let room = BYTES - held.len();
    if room == 0 {
        return Err(Outcome::TooLong);
    }
    let take = new.len().min(room);
    held.extend_from_slice(&new[..take]);
    if take < new.len() {
        Err(Outcome::TooLong)
    } else {
        Ok(take)
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    const LIFETIME: u64 = 1_000;
    let mut pool: Box<Pool<SLOTS, BYTES>> = Box::new(Pool::new(LIFETIME, 0x5eed));
    let mut slots: Vec<Slot> = Vec::new();
    let mut now = 0u64;
    // (Out of bytes, `arbitrary` still gives values: the loop is bounded by the input.)
    for _ in 0..512 {
        if u.is_empty() {
            break;
        }
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        match op {
            Op::Open { key, isn } => {
                // The same key and isn: the slot already open (a retransmitted SYN); the same
                // key with another isn: a new connection, the old slot released.
                if let Some(s) = slots.iter_mut().find(|s| s.live && s.key == key) {
                    if s.isn == isn {
                        assert_eq!(pool.open(u64::from(key), isn, now), Ok(s.id));
                        continue;
                    }
                    s.live = false;
                }
                let live = slots.iter().filter(|s| s.live).count();
                match pool.open(u64::from(key), isn, now) {
                    Ok(id) => {
                        assert!(live < SLOTS, "a slot opened past the pool's size");
                        assert!(
                            slots.iter().all(|s| !s.live || s.id != id),
                            "an open slot's id given out again"
                        );
                        slots.push(Slot {
                            id,
                            key,
                            isn,
                            bytes: Vec::new(),
                            live: true,
                            opened: now,
                        });
                    }
                    Err(e) => {
                        assert_eq!(e, Outcome::PoolExhausted);
                        assert_eq!(live, SLOTS, "refused with a slot free");
                    }
                }
            }
            Op::Push {
                which,
                at,
                len,
                fill,
                flip,
            } => {
                let n = slots.len().max(1);
                let Some(s) = slots.get_mut(usize::from(which) % n) else {
                    continue;
                };
                // A segment near the slot's bytes, filled from what it holds where it overlaps
                // (a retransmission), else with `fill`, one byte flipped on request.
                let seq = s.isn.wrapping_add(at as i32 as u32);
                let mut payload: Vec<u8> = (0..usize::from(len))
                    .map(|k| {
                        let off = i64::from(at) + k as i64;
                        if off >= 0 && (off as usize) < s.bytes.len() {
                            s.bytes[off as usize]
                        } else {
                            fill.wrapping_add(k as u8)
                        }
                    })
                    .collect();
                if let (Some(f), false) = (flip, payload.is_empty()) {
                    let k = usize::from(f) % payload.len();
                    payload[k] ^= 0x20;
                }
                push(&mut pool, s, seq, &payload);
            }
            Op::PushFar { which, seq, len } => {
                let n = slots.len().max(1);
                let Some(s) = slots.get_mut(usize::from(which) % n) else {
                    continue;
                };
                let payload = vec![0x61; usize::from(len)];
                push(&mut pool, s, seq, &payload);
            }
            Op::Release { which } => {
                let n = slots.len().max(1);
                let Some(s) = slots.get_mut(usize::from(which) % n) else {
                    continue;
                };
                let r = pool.release(s.id);
                assert_eq!(
                    r.is_ok(),
                    s.live,
                    "release of a slot the model says is {}",
                    s.live
                );
                s.live = false;
            }
            Op::Age { ns } => {
                now += u64::from(ns);
                let expired = pool.age(now);
                let mut model = 0;
                for s in slots.iter_mut().filter(|s| s.live) {
                    if now.saturating_sub(s.opened) >= LIFETIME {
                        s.live = false;
                        model += 1;
                    }
                }
                assert_eq!(expired, model, "slots expired");
            }
        }
        // Every slot the model knows reads as the model says.
        for s in &slots {
            match (pool.bytes(s.id), s.live) {
                (Ok(b), true) => {
                    assert_eq!(b, &s.bytes[..]);
                    assert_eq!(
                        pool.next_seq(s.id),
                        Ok(s.isn.wrapping_add(s.bytes.len() as u32))
                    );
                }
                (Err(Outcome::UnknownSlot), false) => {}
                (r, live) => panic!("slot read {r:?}, the model says live={live}"),
            }
        }
        assert_eq!(pool.in_use(), slots.iter().filter(|s| s.live).count());
    }
}

fn push(pool: &mut Pool<SLOTS, BYTES>, s: &mut Slot, seq: u32, payload: &[u8]) {
    let got = pool.push(s.id, seq, payload).map(|g| g.added);
    if !s.live {
        assert_eq!(
            got,
            Err(Outcome::UnknownSlot),
            "a released slot took a push"
        );
        return;
    }
    let want = place(&mut s.bytes, s.isn, seq, payload);
    assert_eq!(
        got,
        want,
        "push of {} bytes at {seq} (isn {})",
        payload.len(),
        s.isn
    );
}
