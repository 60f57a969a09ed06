//! The bounded pool of HTTP/2 followers ([`H2Conn`]): one per HTTP/2 connection on the GPU
//! path, each holding its connection's HPACK table. Sized at setup; each tenant may hold at
//! most its cap, so one tenant's connections cannot take the others' followers. A
//! connection that finds no follower goes to the host path, never unchecked.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

use crate::l7::h2conn::H2Conn;

/// Marks a follower no flow holds.
const FREE: u32 = u32::MAX;

/// The followers, who holds each, and the free list.
pub(super) struct H2Pool {
    conns: Vec<H2Conn>,
    /// Per follower: the flow-table slot of the flow that holds it, and its owner (a
    /// tenant's index); [`FREE`] when free.
    held_by: Vec<(u32, u32)>,
    free: Vec<u16>,
    /// Per owner: followers held.
    held: Vec<u32>,
    /// The most followers one owner may hold.
    cap: u32,
}

impl core::fmt::Debug for H2Pool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("H2Pool")
            .field("size", &self.conns.len())
            .field("in_use", &self.in_use())
            .field("cap", &self.cap)
            .finish()
    }
}

impl H2Pool {
    /// `n` followers (at most 65,535) for `owners` owners, each capped at `cap`.
    pub(super) fn new(n: usize, owners: usize, cap: usize) -> Self {
        let n = n.min(usize::from(u16::MAX));
        Self {
            conns: (0..n).map(|_| H2Conn::new()).collect(),
            held_by: alloc::vec![(FREE, FREE); n],
            free: (0..n as u16).rev().collect(),
            held: alloc::vec![0; owners],
            cap: u32::try_from(cap).unwrap_or(u32::MAX),
        }
    }

    /// A free follower for `owner`, restarted for a new connection, held by flow-table slot
    /// `flow` (rebind it with [`H2Pool::bind`] when the slot is not known yet). When none is
    /// free, followers whose flows are gone (`gone(flow, index)`: aged out or evicted from
    /// the table) are taken back first. `None`: the pool or the owner's cap is exhausted.
    pub(super) fn alloc(
        &mut self,
        owner: u32,
        flow: u32,
        gone: impl Fn(u32, u16) -> bool,
    ) -> Option<u16> {
        if self
            .held
            .get(owner as usize)
            .is_some_and(|&h| h >= self.cap)
            || self.free.is_empty()
        {
            self.reclaim(gone);
        }
        if self
            .held
            .get(owner as usize)
            .map_or(true, |&h| h >= self.cap)
        {
            return None;
        }
        let i = self.free.pop()?;
        if let Some(h) = self.held_by.get_mut(usize::from(i)) {
            *h = (flow, owner);
        }
        if let Some(h) = self.held.get_mut(owner as usize) {
            *h += 1;
        }
        Some(i)
    }

    /// Records the flow-table slot of follower `i`'s flow.
    pub(super) fn bind(&mut self, i: u16, flow: u32) {
        if let Some(h) = self.held_by.get_mut(usize::from(i)) {
            if h.1 != FREE {
                h.0 = flow;
            }
        }
    }

    /// Frees follower `i` (nothing when it is free).
    pub(super) fn release(&mut self, i: u16) {
        let Some(h) = self.held_by.get_mut(usize::from(i)) else {
            return;
        };
        if h.1 == FREE {
            return;
        }
        if let Some(n) = self.held.get_mut(h.1 as usize) {
            *n = n.saturating_sub(1);
        }
        *h = (FREE, FREE);
        self.free.push(i);
    }

    /// Follower `i`.
    pub(super) fn get_mut(&mut self, i: u16) -> Option<&mut H2Conn> {
        self.conns.get_mut(usize::from(i))
    }

    /// Followers held.
    pub(super) fn in_use(&self) -> usize {
        self.conns.len() - self.free.len()
    }

    /// Takes back the followers of flows that are gone.
    #[cold]
    fn reclaim(&mut self, gone: impl Fn(u32, u16) -> bool) {
        for i in 0..self.held_by.len() as u16 {
            let flow = self.held_by.get(usize::from(i)).map_or(FREE, |h| h.0);
            if flow != FREE && gone(flow, i) {
                self.release(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_capped_and_gone_flows_give_their_followers_back() {
        let mut p = H2Pool::new(3, 2, 2);
        let never = |_: u32, _: u16| false;
        let a = p.alloc(0, 10, never).unwrap();
        let b = p.alloc(0, 11, never).unwrap();
        assert_eq!(p.alloc(0, 12, never), None, "owner 0 at its cap");
        let c = p.alloc(1, 20, never).unwrap();
        assert_eq!(p.alloc(1, 21, never), None, "pool empty");
        assert_eq!(p.in_use(), 3);
        // Flow 11 is gone: its follower is taken back when one is needed.
        let d = p.alloc(1, 21, |flow, i| flow == 11 && i == b).unwrap();
        assert_eq!(d, b);
        p.release(a);
        p.release(a);
        assert_eq!(p.in_use(), 2);
        p.bind(c, 30);
        p.release(c);
        p.release(d);
        assert_eq!(p.in_use(), 0);
        assert!(p.alloc(0, 1, never).is_some() && p.alloc(0, 2, never).is_some());
    }
}
