//! Classic pcap files (the libpcap format: a 24-byte file header, then a 16-byte record
//! header before each frame), read from and written to memory, for replaying captures through
//! the pipeline and writing one capture per verdict.
//!
//! Reading is a zero-copy iterator over a byte slice that accepts both byte orders and both
//! timestamp resolutions (micro- and nanoseconds) and stops with a typed error at the first
//! malformed record; only Ethernet link type (1) is accepted. Writing appends to a `Vec<u8>`.
#![forbid(unsafe_code)]

use alloc::vec::Vec;
use core::fmt;

/// Link type of Ethernet frames (LINKTYPE_ETHERNET).
pub const LINKTYPE_ETHERNET: u32 = 1;
const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;

/// Why a capture could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PcapError {
    /// Shorter than the 24-byte file header.
    TruncatedHeader,
    /// Not a pcap magic number (pcapng files are not read).
    BadMagic(u32),
    /// A link type other than Ethernet.
    LinkType(u32),
    /// A record header or its frame runs past the end of the file (at this byte offset).
    TruncatedRecord(usize),
    /// A record claims more captured bytes than the file's snap length allows.
    RecordTooLong(usize),
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TruncatedHeader => f.write_str("pcap: shorter than the 24-byte file header"),
            Self::BadMagic(m) => write!(f, "pcap: bad magic number {m:#010x} (pcapng is not read)"),
            Self::LinkType(l) => write!(f, "pcap: link type {l} (only Ethernet, 1, is read)"),
            Self::TruncatedRecord(at) => write!(f, "pcap: record at byte {at} is cut short"),
            Self::RecordTooLong(at) => {
                write!(f, "pcap: record at byte {at} exceeds the snap length")
            }
        }
    }
}

impl core::error::Error for PcapError {}

/// One frame of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record<'a> {
    /// Timestamp in nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Length of the frame on the wire (may exceed the captured bytes).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// A capture being read: an iterator of [`Record`]s.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    big_endian: bool,
    nanos: bool,
    snaplen: u32,
    failed: bool,
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let mut w = [0u8; 4];
    w.copy_from_slice(b.get(at..at + 4)?);
    Some(if big {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    })
}

impl<'a> Reader<'a> {
    /// Reads the file header of the capture in `bytes`.
    ///
    /// # Errors
    ///
    /// A [`PcapError`] for a short, non-pcap or non-Ethernet file.
    pub fn new(bytes: &'a [u8]) -> Result<Self, PcapError> {
        let magic = u32_at(bytes, 0, false).ok_or(PcapError::TruncatedHeader)?;
        if bytes.len() < 24 {
            return Err(PcapError::TruncatedHeader);
        }
        let (big_endian, nanos) = match magic {
            MAGIC_US => (false, false),
            MAGIC_NS => (false, true),
            m if m.swap_bytes() == MAGIC_US => (true, false),
            m if m.swap_bytes() == MAGIC_NS => (true, true),
            m => return Err(PcapError::BadMagic(m)),
        };
        let snaplen = u32_at(bytes, 16, big_endian).ok_or(PcapError::TruncatedHeader)?;
        let link = u32_at(bytes, 20, big_endian).ok_or(PcapError::TruncatedHeader)? & 0x0fff_ffff;
        if link != LINKTYPE_ETHERNET {
            return Err(PcapError::LinkType(link));
        }
        Ok(Self {
            bytes,
            at: 24,
            big_endian,
            nanos,
            snaplen: if snaplen == 0 { u32::MAX } else { snaplen },
            failed: false,
        })
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Record<'a>, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let at = self.at;
        let b = self.big_endian;
        let header = (|| {
            Some((
                u32_at(self.bytes, at, b)?,
                u32_at(self.bytes, at + 4, b)?,
                u32_at(self.bytes, at + 8, b)?,
                u32_at(self.bytes, at + 12, b)?,
            ))
        })();
        let Some((sec, frac, incl, orig)) = header else {
            self.failed = true;
            return Some(Err(PcapError::TruncatedRecord(at)));
        };
        if incl > self.snaplen.max(262_144) {
            self.failed = true;
            return Some(Err(PcapError::RecordTooLong(at)));
        }
        let start = at + 16;
        let Some(data) = self.bytes.get(start..start + incl as usize) else {
            self.failed = true;
            return Some(Err(PcapError::TruncatedRecord(at)));
        };
        self.at = start + incl as usize;
        let frac_ns = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        Some(Ok(Record {
            ts_ns: u64::from(sec) * 1_000_000_000 + frac_ns,
            orig_len: orig,
            data,
        }))
    }
}

/// A capture being written (little-endian, nanosecond timestamps, Ethernet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writer {
    bytes: Vec<u8>,
    records: usize,
}

impl Writer {
    /// An empty capture (the file header only).
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(4096);
        bytes.extend_from_slice(&MAGIC_NS.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&262_144u32.to_le_bytes());
        bytes.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        Self { bytes, records: 0 }
    }

    /// Appends a frame captured at `ts_ns` (cut at 262,144 bytes).
    pub fn push(&mut self, ts_ns: u64, frame: &[u8]) {
        let data = frame.get(..frame.len().min(262_144)).unwrap_or(&[]);
        let sec = (ts_ns / 1_000_000_000) as u32;
        let ns = (ts_ns % 1_000_000_000) as u32;
        self.bytes.extend_from_slice(&sec.to_le_bytes());
        self.bytes.extend_from_slice(&ns.to_le_bytes());
        self.bytes
            .extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(data);
        self.records += 1;
    }

    /// Frames written.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether no frame was written.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The file's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut w = Writer::new();
        w.push(1_500_000_000_123, b"frame-one");
        w.push(1_500_000_001_000, &[7u8; 60]);
        assert_eq!(w.len(), 2);
        let recs: Vec<_> = Reader::new(w.as_bytes())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].data, b"frame-one");
        assert_eq!(recs[0].ts_ns, 1_500_000_000_123);
        assert_eq!(recs[1].data.len(), 60);
        // A cut record is an error, reported once.
        let cut = &w.as_bytes()[..w.as_bytes().len() - 5];
        let mut r = Reader::new(cut).unwrap();
        assert!(r.next().unwrap().is_ok());
        assert!(matches!(r.next(), Some(Err(PcapError::TruncatedRecord(_)))));
        assert!(r.next().is_none());
        assert_eq!(
            Reader::new(&[0u8; 10]).unwrap_err(),
            PcapError::TruncatedHeader
        );
        assert_eq!(Reader::new(&[0u8; 24]).unwrap_err(), PcapError::BadMagic(0));
        // Big-endian microsecond files (as older tools write them).
        let mut be = Vec::new();
        be.extend_from_slice(&MAGIC_US.to_be_bytes());
        be.extend_from_slice(&[
            0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
        ]);
        be.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 9, 9, 9]);
        let r: Vec<_> = Reader::new(&be).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(r[0].ts_ns, 1_000_002_000);
        assert_eq!(r[0].data, [9, 9, 9]);
    }
}
