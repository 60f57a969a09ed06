//! TCP header (RFC 9293 §3.1) and a total iterator over its options.
//!
//! The frame parser checks the data offset (at least 5 words and within the segment) and skips
//! the options without reading them; [`TcpOptions`] walks them for callers that want MSS,
//! window scale or timestamps, and stops at the first malformed option with an error.
#![forbid(unsafe_code)]

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{Header, Layer, WireErrorKind};

/// The fixed TCP header (20 bytes).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: U16,
    /// Destination port.
    pub dst_port: U16,
    /// Sequence number.
    pub seq: U32,
    /// Acknowledgment number.
    pub ack: U32,
    /// Data offset (4 bits, in 32-bit words), reserved (4 bits), control flags (8 bits).
    pub offset_flags: U16,
    /// Receive window.
    pub window: U16,
    /// Checksum.
    pub checksum: U16,
    /// Urgent pointer.
    pub urgent: U16,
}

/// TCP control flags (the low byte of [`TcpHeader::offset_flags`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;

    /// Whether every bit of `mask` is set.
    #[inline]
    pub fn contains(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
}

impl Header for TcpHeader {
    const LAYER: Layer = Layer::Tcp;
}

impl TcpHeader {
    /// Length of the fixed header in bytes.
    pub const LEN: usize = 20;

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        self.src_port.get()
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        self.dst_port.get()
    }

    /// Header length in bytes, options included (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.offset_flags.get() >> 12) * 4
    }

    /// Control flags.
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.offset_flags.get() as u8)
    }

    /// Sets the header length in bytes (rounded down to words, max 60) and the flags.
    #[inline]
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: u8) {
        let words = (header_len.min(60) / 4) as u16;
        self.offset_flags.set((words << 12) | u16::from(flags));
    }
}

/// One TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// No-operation (kind 1).
    Nop,
    /// Maximum segment size (kind 2).
    Mss(u16),
    /// Window scale shift (kind 3).
    WindowScale(u8),
    /// SACK permitted (kind 4).
    SackPermitted,
    /// Timestamps: value and echo reply (kind 8).
    Timestamps(u32, u32),
    /// Any other option: its kind and data.
    Other(u8, &'a [u8]),
}

/// Iterator over the options area of a TCP header. Ends at End-of-Option-List or at the end of
/// the area; a malformed option yields one `Err` and then ends.
#[derive(Clone, Debug)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Iterates over `options`, the bytes between the fixed header and the data offset.
    pub fn new(options: &'a [u8]) -> Self {
        Self { rest: options }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>, WireErrorKind>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after_kind) = self.rest.split_first()?;
        match kind {
            0 => {
                self.rest = &[];
                None
            }
            1 => {
                self.rest = after_kind;
                Some(Ok(TcpOption::Nop))
            }
            _ => {
                let len = after_kind.first().copied().map(usize::from);
                let Some((opt, rest)) = len.filter(|&l| l >= 2).and_then(|l| {
                    let body = self.rest.get(2..l)?;
                    Some((body, self.rest.get(l..)?))
                }) else {
                    self.rest = &[];
                    return Some(Err(WireErrorKind::TcpBadOption(kind)));
                };
                self.rest = rest;
                let parsed = match (kind, opt) {
                    (2, &[a, b]) => TcpOption::Mss(u16::from_be_bytes([a, b])),
                    (3, &[s]) => TcpOption::WindowScale(s),
                    (4, &[]) => TcpOption::SackPermitted,
                    (8, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamps(
                        u32::from_be_bytes([a, b, c, d]),
                        u32::from_be_bytes([e, f, g, h]),
                    ),
                    (2 | 3 | 4 | 8, _) => return Some(Err(WireErrorKind::TcpBadOption(kind))),
                    _ => TcpOption::Other(kind, opt),
                };
                Some(Ok(parsed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_of_a_linux_syn() {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
        let opts = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let got: Vec<_> = TcpOptions::new(&opts).collect();
        assert_eq!(
            got,
            vec![
                Ok(TcpOption::Mss(1460)),
                Ok(TcpOption::SackPermitted),
                Ok(TcpOption::Timestamps(1, 0)),
                Ok(TcpOption::Nop),
                Ok(TcpOption::WindowScale(7)),
            ]
        );
    }

    #[test]
    fn malformed_options_end_with_one_error() {
        for bad in [&[2u8][..], &[2, 1], &[2, 9, 0], &[2, 3, 0], &[8, 10, 0, 0]] {
            let got: Vec<_> = TcpOptions::new(bad).collect();
            assert_eq!(got.len(), 1, "{bad:?}");
            assert!(got[0].is_err(), "{bad:?}");
        }
        let got: Vec<_> = TcpOptions::new(&[1, 0, 2, 4]).collect();
        assert_eq!(got, vec![Ok(TcpOption::Nop)]);
    }
}
