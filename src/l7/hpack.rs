//! HPACK header block decoding (RFC 7541): prefix integers, string literals (raw or Huffman,
//! see [`super::huffman`]), the static table of Appendix A and a dynamic table held in fixed
//! arrays, for the HTTP/2 request headers of a flow.
//!
//! # Promises
//!
//! - **No panic, on any input.** Reads go through `get` and `split_first`; integers are
//!   checked against `u32` and against the bytes left; table offsets stay within the table's
//!   array by construction and are read with `get` all the same. Property tests feed random
//!   blocks and random valid encodings checked against a model of the dynamic table.
//! - **No allocation.** A [`Decoder`] is one fixed-size value: the dynamic table's bytes
//!   (`TABLE`), its entry index (`ENTRIES`), and two scratch buffers (`STRING` bytes each) for
//!   Huffman-decoded names and values. Header fields are handed to a callback as borrowed
//!   slices (of the block, of the static table, of the dynamic table or of the scratch).
//! - **RFC 7541 to the letter.** Insertion and eviction follow §4.1–§4.4 (entry size is name
//!   plus value plus 32; an entry larger than the maximum size empties the table; a name
//!   referring to an entry that the insertion evicts is still read correctly). Dynamic table
//!   size updates (§6.3) are only accepted at the start of a block and never above `TABLE`,
//!   the limit the decoder was built with (what the endpoint advertised as
//!   `SETTINGS_HEADER_TABLE_SIZE`).
//! - **Typed errors.** Every malformed block is a specific [`HpackError`]. After an error the
//!   decoder is still consistent and usable, but its table may no longer match the encoder's:
//!   HTTP/2 treats any decoding error as a connection error (`COMPRESSION_ERROR`).
//!
//! # Layout of the dynamic table
//!
//! The names and values of the entries sit back to back, oldest first, in one `[u8; TABLE]`
//! array; eviction moves the start forward, insertion appends at the end, and when the end
//! would pass the array the live bytes are rotated to the front (amortised: once per `TABLE`
//! bytes inserted). Entry `(offset, name length, value length)` triples sit in a ring of
//! `ENTRIES`; every entry costs at least 32 octets of table size, so `TABLE / 32` of them is
//! always enough, and `ENTRIES` below that fails the build.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use core::fmt;

use super::huffman;

/// Why a header block (or an integer, or a Huffman string) does not decode.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HpackError {
    /// The block ends inside an integer or a string literal.
    Truncated,
    /// An integer above `u32::MAX`, or one with more than 5 continuation bytes.
    IntegerOverflow,
    /// [`decode_integer`] was asked for a prefix outside 1 to 8 bits (the value given).
    BadPrefix(u8),
    /// An index of 0, or past the end of the static and dynamic tables (the index found).
    BadIndex(u32),
    /// The EOS symbol inside a Huffman-coded string.
    HuffmanEos,
    /// Huffman padding longer than 7 bits, or not all ones.
    HuffmanPadding,
    /// The Huffman-decoded string is longer than the output buffer given to
    /// [`huffman::decode`].
    HuffmanOverflow,
    /// A Huffman-coded name or value decodes to more bytes than the decoder's scratch buffer
    /// (`STRING`).
    StringTooLong,
    /// A dynamic table size update above the decoder's limit `TABLE` (the size asked for).
    TableSizeUpdateTooLarge(u32),
    /// A dynamic table size update after the first header field of the block.
    TableSizeUpdateNotFirst,
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "HPACK block truncated inside an integer or string"),
            Self::IntegerOverflow => {
                write!(
                    f,
                    "HPACK integer above 32 bits or with over 5 continuation bytes"
                )
            }
            Self::BadPrefix(p) => write!(f, "HPACK integer prefix of {p} bits (not 1 to 8)"),
            Self::BadIndex(i) => write!(f, "HPACK index {i} not in the tables"),
            Self::HuffmanEos => write!(f, "EOS symbol inside a Huffman string"),
            Self::HuffmanPadding => write!(f, "Huffman padding too long or not all ones"),
            Self::HuffmanOverflow => write!(f, "Huffman string longer than its output buffer"),
            Self::StringTooLong => write!(f, "Huffman string longer than the decoder's scratch"),
            Self::TableSizeUpdateTooLarge(s) => {
                write!(f, "dynamic table size update to {s} above the limit")
            }
            Self::TableSizeUpdateNotFirst => {
                write!(f, "dynamic table size update after a header field")
            }
        }
    }
}

impl core::error::Error for HpackError {}

/// Decodes a prefix integer (RFC 7541 §5.1) whose prefix is the low `prefix_bits` bits of
/// `buf[0]`; returns the value and the number of bytes it took.
///
/// # Errors
///
/// - [`HpackError::Truncated`]: `buf` ends before the integer does.
/// - [`HpackError::IntegerOverflow`]: the value exceeds `u32::MAX`, or the integer has more
///   than 5 continuation bytes (enough for any `u32`).
/// - [`HpackError::BadPrefix`]: `prefix_bits` is not in 1 to 8.
pub fn decode_integer(buf: &[u8], prefix_bits: u8) -> Result<(u32, usize), HpackError> {
    if !(1..=8).contains(&prefix_bits) {
        return Err(HpackError::BadPrefix(prefix_bits));
    }
    let max_prefix = (0xffu16 >> (8 - prefix_bits)) as u8;
    let (&first, rest) = buf.split_first().ok_or(HpackError::Truncated)?;
    let prefix = first & max_prefix;
    if prefix < max_prefix {
        return Ok((u32::from(prefix), 1));
    }
    let mut value = u64::from(max_prefix);
    for (i, &byte) in rest.iter().take(MAX_CONTINUATION).enumerate() {
        // At most 255 + 127 * 2^28 * 2: no overflow in u64.
        value += u64::from(byte & 0x7f) << (7 * i);
        if value > u64::from(u32::MAX) {
            return Err(HpackError::IntegerOverflow);
        }
        if byte & 0x80 == 0 {
            return Ok((value as u32, i + 2));
        }
    }
    if rest.len() >= MAX_CONTINUATION {
        Err(HpackError::IntegerOverflow)
    } else {
        Err(HpackError::Truncated)
    }
}

/// Continuation bytes of a prefix integer: 5 × 7 bits hold any `u32`.
const MAX_CONTINUATION: usize = 5;

/// Octets an entry costs beyond its name and value (RFC 7541 §4.1).
pub const ENTRY_OVERHEAD: usize = 32;

/// The static table of RFC 7541 Appendix A; index `i` (from 1) is `STATIC_TABLE[i - 1]`.
pub const STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// Number of static table entries; dynamic indices start after it.
const STATIC_LEN: usize = STATIC_TABLE.len();

/// Where an entry's bytes sit in the table's array.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// Offset of the name; the value follows it.
    offset: usize,
    name_len: usize,
    value_len: usize,
}

impl Entry {
    const EMPTY: Self = Self {
        offset: 0,
        name_len: 0,
        value_len: 0,
    };

    /// Bytes stored (name and value).
    #[inline]
    fn stored(self) -> usize {
        self.name_len + self.value_len
    }
}

/// The name of a field to insert: bytes outside the table, or the name of a table entry
/// (which the insertion may evict before copying it).
#[derive(Clone, Copy)]
enum NameRef<'a> {
    Bytes(&'a [u8]),
    /// Dynamic table position, 0 the newest.
    Entry(usize),
}

/// The dynamic table (RFC 7541 §2.3.2, §4): entry bytes in one array, oldest first, and an
/// entry ring.
#[derive(Clone)]
struct DynamicTable<const TABLE: usize, const ENTRIES: usize> {
    bytes: [u8; TABLE],
    /// Live bytes are `bytes[start..end]`.
    start: usize,
    end: usize,
    entries: [Entry; ENTRIES],
    /// Ring position of the oldest entry.
    oldest: usize,
    len: usize,
    /// Sum of the entry sizes (stored bytes + 32 each).
    size: usize,
    /// Current maximum size, set by size updates; at most `TABLE`.
    max_size: usize,
}

impl<const TABLE: usize, const ENTRIES: usize> DynamicTable<TABLE, ENTRIES> {
    const fn new() -> Self {
        Self {
            bytes: [0; TABLE],
            start: 0,
            end: 0,
            entries: [Entry::EMPTY; ENTRIES],
            oldest: 0,
            len: 0,
            size: 0,
            max_size: TABLE,
        }
    }

    /// Empties the table and restores its maximum size to `TABLE`.
    fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.oldest = 0;
        self.len = 0;
        self.size = 0;
        self.max_size = TABLE;
    }

    /// Ring slot of entry `i` (0 the newest), if there is such an entry.
    #[inline]
    fn slot(&self, i: usize) -> Option<usize> {
        if i >= self.len {
            return None;
        }
        (self.oldest + self.len - 1 - i).checked_rem(ENTRIES)
    }

    #[inline]
    fn entry(&self, i: usize) -> Option<Entry> {
        self.entries.get(self.slot(i)?).copied()
    }

    /// Name and value of entry `i` (0 the newest).
    #[inline]
    fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let e = self.entry(i)?;
        let name_end = e.offset + e.name_len;
        let name = self.bytes.get(e.offset..name_end)?;
        let value = self.bytes.get(name_end..name_end + e.value_len)?;
        Some((name, value))
    }

    fn evict_oldest(&mut self) {
        let Some(e) = self.entries.get(self.oldest).copied() else {
            return;
        };
        if self.len == 0 {
            return;
        }
        self.size = self.size.saturating_sub(e.stored() + ENTRY_OVERHEAD);
        self.len -= 1;
        self.oldest = (self.oldest + 1).checked_rem(ENTRIES).unwrap_or(0);
        if self.len == 0 {
            // Bytes stay where they are (an entry being inserted may still read its name
            // from them); the next insertion writes from the front.
            self.start = 0;
            self.end = 0;
            self.oldest = 0;
        } else {
            self.start = e.offset + e.stored();
        }
    }

    /// Evicts the oldest entries until the size is at most `max`.
    fn evict_to(&mut self, max: usize) {
        while self.size > max && self.len > 0 {
            self.evict_oldest();
        }
    }

    /// Sets the maximum size (a dynamic table size update, already checked against the
    /// limit) and evicts what no longer fits.
    fn set_max_size(&mut self, max: usize) {
        self.max_size = max.min(TABLE);
        self.evict_to(self.max_size);
    }

    /// Inserts `(name, value)` as the newest entry (RFC 7541 §4.4).
    fn insert(&mut self, name: NameRef<'_>, value: &[u8]) {
        // Where the name is, before eviction can move the start past it.
        let name_entry = match name {
            NameRef::Bytes(_) => None,
            NameRef::Entry(i) => match self.entry(i) {
                Some(e) => Some(e),
                None => return, // checked by the caller
            },
        };
        let name_len = match (name, name_entry) {
            (NameRef::Bytes(b), _) => b.len(),
            (_, Some(e)) => e.name_len,
            (_, None) => 0,
        };
        let stored = name_len.saturating_add(value.len());
        let size = stored.saturating_add(ENTRY_OVERHEAD);
        if size > self.max_size {
            // §4.4: an entry larger than the maximum size empties the table.
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max_size - size);
        // Now `len < ENTRIES` (each entry costs 32 and the sizes add up to at most TABLE) and
        // `end - start + stored <= TABLE` (stored bytes are the size less 32 per entry).
        let mut name_at = name_entry.map(|e| e.offset);
        if self.end + stored > TABLE {
            // Rotate the live bytes to the front. Rotation keeps every byte, so a name in an
            // entry just evicted (before `start`) is still there, at its rotated offset.
            let shift = self.start.min(TABLE);
            self.bytes.rotate_left(shift);
            for i in 0..self.len {
                if let Some(e) = self.slot(i).and_then(|s| self.entries.get_mut(s)) {
                    e.offset = e.offset.saturating_sub(shift);
                }
            }
            name_at = name_at.map(|at| match at.checked_sub(shift) {
                Some(moved) => moved,
                None => at + TABLE - shift,
            });
            self.end = self.end.saturating_sub(shift);
            self.start = 0;
        }
        let at = self.end;
        match (name, name_at) {
            (NameRef::Bytes(b), _) => {
                if let Some(dst) = self.bytes.get_mut(at..at + name_len) {
                    dst.copy_from_slice(b);
                }
            }
            // `copy_within` is a memmove: the source may overlap the destination when the
            // entry was evicted by this insertion.
            (NameRef::Entry(_), Some(src)) => {
                if src + name_len <= TABLE && at + name_len <= TABLE {
                    self.bytes.copy_within(src..src + name_len, at);
                }
            }
            (NameRef::Entry(_), None) => {}
        }
        if let Some(dst) = self.bytes.get_mut(at + name_len..at + stored) {
            dst.copy_from_slice(value);
        }
        let slot = (self.oldest + self.len).checked_rem(ENTRIES);
        if let Some(e) = slot.and_then(|s| self.entries.get_mut(s)) {
            *e = Entry {
                offset: at,
                name_len,
                value_len: value.len(),
            };
            self.len += 1;
            self.end = at + stored;
            self.size += size;
        }
    }
}

/// An HPACK decoder: the dynamic table of one HTTP/2 connection direction, and scratch room
/// for Huffman-decoded strings.
///
/// - `TABLE`: the dynamic table limit in octets (RFC 7541 size, entries counted with their
///   32-octet overhead), the `SETTINGS_HEADER_TABLE_SIZE` this endpoint advertises; 4096 by
///   default, as in HTTP/2. It is also the initial maximum size.
/// - `ENTRIES`: room for entry positions; must be at least `TABLE / 32` (checked at build).
/// - `STRING`: the longest Huffman-decoded name or value accepted; raw strings are borrowed
///   from the block and have no limit of their own. 4096 by default, the table's size: any
///   field the peer could also insert into the table (a long Huffman-coded `authorization`
///   header, say) decodes.
///
/// ```
/// use infersteer::l7::hpack::Decoder;
///
/// let mut decoder: Decoder = Decoder::new();
/// let mut fields = Vec::new();
/// // RFC 7541 C.4.1: a request with a Huffman-coded authority.
/// let block = [
///     0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
///     0x90, 0xf4, 0xff,
/// ];
/// decoder
///     .decode_block(&block, &mut |name: &[u8], value: &[u8]| {
///         fields.push((name.to_vec(), value.to_vec()))
///     })
///     .unwrap();
/// assert_eq!(fields[3], (b":authority".to_vec(), b"www.example.com".to_vec()));
/// assert_eq!(decoder.table_size(), 57);
/// ```
#[derive(Clone)]
pub struct Decoder<
    const TABLE: usize = 4096,
    const ENTRIES: usize = 128,
    const STRING: usize = 4096,
> {
    table: DynamicTable<TABLE, ENTRIES>,
    name_buf: [u8; STRING],
    value_buf: [u8; STRING],
}

impl<const TABLE: usize, const ENTRIES: usize, const STRING: usize> Default
    for Decoder<TABLE, ENTRIES, STRING>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const TABLE: usize, const ENTRIES: usize, const STRING: usize> fmt::Debug
    for Decoder<TABLE, ENTRIES, STRING>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("entries", &self.table.len)
            .field("size", &self.table.size)
            .field("max_size", &self.table.max_size)
            .field("limit", &TABLE)
            .finish()
    }
}

impl<const TABLE: usize, const ENTRIES: usize, const STRING: usize>
    Decoder<TABLE, ENTRIES, STRING>
{
    /// Fails the build of a decoder whose entry ring could overflow.
    const ENTRIES_SUFFICE: () = assert!(
        ENTRIES >= TABLE / ENTRY_OVERHEAD,
        "Decoder: ENTRIES must be at least TABLE / 32"
    );

    /// An empty decoder whose maximum table size is the limit `TABLE`.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::ENTRIES_SUFFICE;
        Self {
            table: DynamicTable::new(),
            name_buf: [0; STRING],
            value_buf: [0; STRING],
        }
    }

    /// Empties the dynamic table and restores its maximum size to `TABLE`, as for a new
    /// connection, without rewriting the buffers (cheaper than `new()` on the hot path).
    pub fn reset(&mut self) {
        self.table.clear();
    }

    /// Decodes one complete header block (HEADERS plus any CONTINUATION fragments,
    /// concatenated), calling `on_header(name, value)` for each field in order.
    ///
    /// The dynamic table is updated as the block goes; fields before an error have been
    /// reported and inserted.
    ///
    /// # Errors
    ///
    /// [`HpackError::Truncated`], [`HpackError::IntegerOverflow`], [`HpackError::BadIndex`],
    /// [`HpackError::HuffmanEos`], [`HpackError::HuffmanPadding`],
    /// [`HpackError::StringTooLong`], [`HpackError::TableSizeUpdateTooLarge`],
    /// [`HpackError::TableSizeUpdateNotFirst`].
    pub fn decode_block(
        &mut self,
        block: &[u8],
        on_header: &mut impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut rest = block;
        let mut seen_field = false;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                // §6.1 indexed header field.
                let (index, n) = decode_integer(rest, 7)?;
                rest = rest.get(n..).unwrap_or(&[]);
                let (name, value) = self.lookup(index)?;
                on_header(name, value);
            } else if first & 0xe0 == 0x20 {
                // §6.3 dynamic table size update.
                if seen_field {
                    return Err(HpackError::TableSizeUpdateNotFirst);
                }
                let (size, n) = decode_integer(rest, 5)?;
                rest = rest.get(n..).unwrap_or(&[]);
                if size as usize > TABLE {
                    return Err(HpackError::TableSizeUpdateTooLarge(size));
                }
                self.table.set_max_size(size as usize);
                continue;
            } else {
                // §6.2: 01 with incremental indexing (6-bit index), 0000 without indexing and
                // 0001 never indexed (4-bit index).
                let indexing = first & 0x40 != 0;
                let (index, n) = decode_integer(rest, if indexing { 6 } else { 4 })?;
                rest = rest.get(n..).unwrap_or(&[]);
                let name = if index == 0 {
                    let (name, after) = read_string(rest, &mut self.name_buf)?;
                    rest = after;
                    NameRef::Bytes(name)
                } else if let Some(&(name, _)) = STATIC_TABLE.get(index as usize - 1) {
                    NameRef::Bytes(name)
                } else {
                    let i = index as usize - 1 - STATIC_LEN;
                    if i >= self.table.len {
                        return Err(HpackError::BadIndex(index));
                    }
                    NameRef::Entry(i)
                };
                let (value, after) = read_string(rest, &mut self.value_buf)?;
                rest = after;
                let name_bytes = match name {
                    NameRef::Bytes(b) => b,
                    NameRef::Entry(i) => self
                        .table
                        .get(i)
                        .map(|(n, _)| n)
                        .ok_or(HpackError::BadIndex(index))?,
                };
                on_header(name_bytes, value);
                if indexing {
                    self.table.insert(name, value);
                }
            }
            seen_field = true;
        }
        Ok(())
    }

    /// Name and value at `index` (RFC 7541 §2.3.3: 1 to 61 static, then dynamic).
    fn lookup(&self, index: u32) -> Result<(&[u8], &[u8]), HpackError> {
        let i = (index as usize).wrapping_sub(1);
        if let Some(&(name, value)) = STATIC_TABLE.get(i) {
            return Ok((name, value));
        }
        i.checked_sub(STATIC_LEN)
            .and_then(|d| self.table.get(d))
            .ok_or(HpackError::BadIndex(index))
    }

    /// Current size of the dynamic table in RFC 7541 octets (32 per entry plus its bytes).
    #[inline]
    pub fn table_size(&self) -> usize {
        self.table.size
    }

    /// Current maximum size of the dynamic table, as last set by a size update (initially
    /// `TABLE`).
    #[inline]
    pub fn max_table_size(&self) -> usize {
        self.table.max_size
    }

    /// Number of entries in the dynamic table.
    #[inline]
    pub fn table_len(&self) -> usize {
        self.table.len
    }

    /// Name and value of dynamic table entry `i`, 0 the newest (HPACK index `62 + i`).
    #[inline]
    pub fn table_entry(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.table.get(i)
    }

    /// Exchanges this decoder's dynamic table with `saved`: one decoder (and its string
    /// buffers) serves many connections, each of whose tables is kept in a [`SavedTable`]
    /// between its header blocks. Swap the connection's table in, decode its block, swap it
    /// back out.
    #[inline]
    pub fn swap_table(&mut self, saved: &mut SavedTable<TABLE, ENTRIES>) {
        core::mem::swap(&mut self.table, &mut saved.0);
    }
}

/// One connection's HPACK dynamic table kept between header blocks, without the string
/// buffers a [`Decoder`] carries ([`Decoder::swap_table`]). A new one is an empty table, as a
/// connection starts with.
#[derive(Clone)]
pub struct SavedTable<const TABLE: usize = 4096, const ENTRIES: usize = 128>(
    DynamicTable<TABLE, ENTRIES>,
);

impl<const TABLE: usize, const ENTRIES: usize> SavedTable<TABLE, ENTRIES> {
    /// An empty table whose maximum size is `TABLE`.
    pub const fn new() -> Self {
        Self(DynamicTable::new())
    }

    /// Empties the table, as for a new connection.
    pub fn reset(&mut self) {
        self.0.clear();
    }
}

impl<const TABLE: usize, const ENTRIES: usize> Default for SavedTable<TABLE, ENTRIES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const TABLE: usize, const ENTRIES: usize> fmt::Debug for SavedTable<TABLE, ENTRIES> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedTable")
            .field("entries", &self.0.len)
            .field("size", &self.0.size)
            .finish()
    }
}

/// Reads a string literal (RFC 7541 §5.2) at the start of `input`: a raw string is borrowed
/// from `input`, a Huffman-coded one is decoded into `scratch`. Returns the string and the
/// bytes after it.
fn read_string<'i: 's, 's>(
    input: &'i [u8],
    scratch: &'s mut [u8],
) -> Result<(&'s [u8], &'i [u8]), HpackError> {
    let huffman = input.first().is_some_and(|&b| b & 0x80 != 0);
    let (len, n) = decode_integer(input, 7)?;
    let after_len = input.get(n..).unwrap_or(&[]);
    let raw = after_len.get(..len as usize).ok_or(HpackError::Truncated)?;
    let rest = after_len.get(len as usize..).unwrap_or(&[]);
    if !huffman {
        return Ok((raw, rest));
    }
    let decoded = huffman::decode(raw, scratch).map_err(|e| match e {
        HpackError::HuffmanOverflow => HpackError::StringTooLong,
        other => other,
    })?;
    Ok((scratch.get(..decoded).unwrap_or(&[]), rest))
}

#[cfg(test)]
mod tests {
    use super::super::huffman::tests::encode as huffman_encode;
    use super::*;

    #[test]
    fn reset_forgets_the_dynamic_table() {
        let mut d: Decoder = Decoder::new();
        // C.3.1: one literal with incremental indexing (:authority www.example.com).
        let block = [
            0x82, 0x86, 0x84, 0x41, 0x0f, b'w', b'w', b'w', b'.', b'e', b'x', b'a', b'm', b'p',
            b'l', b'e', b'.', b'c', b'o', b'm',
        ];
        d.decode_block(&block, &mut |_, _| {}).unwrap();
        assert_eq!(d.table_len(), 1);
        d.reset();
        assert_eq!(
            (d.table_len(), d.table_size(), d.max_table_size()),
            (0, 0, 4096)
        );
        // Index 62 (the first dynamic entry) is gone after the reset.
        assert_eq!(
            d.decode_block(&[0xbe], &mut |_, _| {}),
            Err(HpackError::BadIndex(62))
        );
    }
    use proptest::prelude::*;

    type Fields = Vec<(Vec<u8>, Vec<u8>)>;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn decode<const T: usize, const E: usize, const S: usize>(
        d: &mut Decoder<T, E, S>,
        block: &[u8],
    ) -> Result<Fields, HpackError> {
        let mut fields = Vec::new();
        d.decode_block(block, &mut |n: &[u8], v: &[u8]| {
            fields.push((n.to_vec(), v.to_vec()))
        })?;
        Ok(fields)
    }

    fn pairs(list: &[(&str, &str)]) -> Fields {
        list.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    /// Checks the dynamic table as the RFC prints it: `(s = size) name: value`, newest first,
    /// and the table size.
    fn assert_table<const T: usize, const E: usize, const S: usize>(
        d: &Decoder<T, E, S>,
        expect: &[(usize, &str, &str)],
        total: usize,
    ) {
        let got: Vec<(usize, Vec<u8>, Vec<u8>)> = (0..d.table_len())
            .map(|i| {
                let (n, v) = d.table_entry(i).unwrap();
                (n.len() + v.len() + 32, n.to_vec(), v.to_vec())
            })
            .collect();
        let want: Vec<(usize, Vec<u8>, Vec<u8>)> = expect
            .iter()
            .map(|&(s, n, v)| (s, n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(d.table_size(), total);
        assert_eq!(d.table_entry(d.table_len()), None);
    }

    // ---- C.1 integers -------------------------------------------------------------------

    #[test]
    fn c1_integers() {
        // C.1.1: 10 on a 5-bit prefix (the three high bits belong to the representation).
        assert_eq!(decode_integer(&[0b0000_1010], 5), Ok((10, 1)));
        assert_eq!(decode_integer(&[0b1110_1010], 5), Ok((10, 1)));
        // C.1.2: 1337 on a 5-bit prefix: 31, then 154, then 10.
        assert_eq!(decode_integer(&[0x1f, 0x9a, 0x0a], 5), Ok((1337, 3)));
        assert_eq!(decode_integer(&[0xff, 0x9a, 0x0a, 0x55], 5), Ok((1337, 3)));
        // C.1.3: 42 at an octet boundary (8-bit prefix).
        assert_eq!(decode_integer(&[0x2a], 8), Ok((42, 1)));
    }

    /// Encodes `v` on a `prefix`-bit prefix, with `high` in the bits above it.
    fn encode_integer(v: u32, prefix: u8, high: u8) -> Vec<u8> {
        let max = (0xffu16 >> (8 - prefix)) as u32;
        let high = if prefix == 8 { 0 } else { high & !(max as u8) };
        if v < max {
            return vec![high | v as u8];
        }
        let mut out = vec![high | max as u8];
        let mut rest = v - max;
        while rest >= 128 {
            out.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        out.push(rest as u8);
        out
    }

    #[test]
    fn integer_limits() {
        for prefix in 1..=8 {
            let max = encode_integer(u32::MAX, prefix, 0);
            assert_eq!(decode_integer(&max, prefix), Ok((u32::MAX, max.len())));
            assert!(max.len() <= 6);
        }
        // 2^32 + 30 on a 5-bit prefix: 31 + (2^28 - 1) + 15 * 2^28.
        assert_eq!(
            decode_integer(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x0f], 5),
            Err(HpackError::IntegerOverflow)
        );
        // u32::MAX + 1 on an 8-bit prefix: 255 + 0xffff_ff01.
        assert_eq!(
            encode_integer(u32::MAX, 8, 0),
            [0xff, 0x80, 0xfe, 0xff, 0xff, 0x0f]
        );
        assert_eq!(
            decode_integer(&[0xff, 0x81, 0xfe, 0xff, 0xff, 0x0f], 8),
            Err(HpackError::IntegerOverflow)
        );
        // Five continuation bytes are fine (value 31 with redundant zero groups)...
        assert_eq!(
            decode_integer(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Ok((31, 6))
        );
        // ...six are not, even for a small value.
        assert_eq!(
            decode_integer(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(HpackError::IntegerOverflow)
        );
        assert_eq!(
            decode_integer(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80], 5),
            Err(HpackError::IntegerOverflow)
        );
        // Truncated.
        assert_eq!(decode_integer(&[], 5), Err(HpackError::Truncated));
        assert_eq!(decode_integer(&[0x1f], 5), Err(HpackError::Truncated));
        assert_eq!(decode_integer(&[0x1f, 0x9a], 5), Err(HpackError::Truncated));
        assert_eq!(
            decode_integer(&[0x1f, 0x80, 0x80, 0x80, 0x80], 5),
            Err(HpackError::Truncated)
        );
        // Prefix out of range.
        assert_eq!(decode_integer(&[1], 0), Err(HpackError::BadPrefix(0)));
        assert_eq!(decode_integer(&[1], 9), Err(HpackError::BadPrefix(9)));
    }

    // ---- C.2 single representations ----------------------------------------------------

    #[test]
    fn c2_1_literal_with_indexing() {
        let mut d: Decoder = Decoder::new();
        let block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f, pairs(&[("custom-key", "custom-header")]));
        assert_table(&d, &[(55, "custom-key", "custom-header")], 55);
    }

    #[test]
    fn c2_2_literal_without_indexing() {
        let mut d: Decoder = Decoder::new();
        let block = hex("040c 2f73 616d 706c 652f 7061 7468");
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f, pairs(&[(":path", "/sample/path")]));
        assert_table(&d, &[], 0);
    }

    #[test]
    fn c2_3_literal_never_indexed() {
        let mut d: Decoder = Decoder::new();
        let block = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f, pairs(&[("password", "secret")]));
        assert_table(&d, &[], 0);
    }

    #[test]
    fn c2_4_indexed() {
        let mut d: Decoder = Decoder::new();
        let f = decode(&mut d, &hex("82")).unwrap();
        assert_eq!(f, pairs(&[(":method", "GET")]));
        assert_table(&d, &[], 0);
    }

    // ---- C.3 / C.4 requests -------------------------------------------------------------

    fn requests(blocks: [&str; 3]) {
        let mut d: Decoder = Decoder::new();
        let f = decode(&mut d, &hex(blocks[0])).unwrap();
        assert_eq!(
            f,
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ])
        );
        assert_table(&d, &[(57, ":authority", "www.example.com")], 57);

        let f = decode(&mut d, &hex(blocks[1])).unwrap();
        assert_eq!(
            f,
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache"),
            ])
        );
        assert_table(
            &d,
            &[
                (53, "cache-control", "no-cache"),
                (57, ":authority", "www.example.com"),
            ],
            110,
        );

        let f = decode(&mut d, &hex(blocks[2])).unwrap();
        assert_eq!(
            f,
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value"),
            ])
        );
        assert_table(
            &d,
            &[
                (54, "custom-key", "custom-value"),
                (53, "cache-control", "no-cache"),
                (57, ":authority", "www.example.com"),
            ],
            164,
        );
    }

    #[test]
    fn c3_requests_without_huffman() {
        requests([
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ]);
    }

    #[test]
    fn c4_requests_with_huffman() {
        requests([
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ]);
    }

    // ---- C.5 / C.6 responses, table size 256 --------------------------------------------

    fn responses(blocks: [&str; 3]) {
        let mut d: Decoder<256, 8> = Decoder::new();
        assert_eq!(d.max_table_size(), 256);
        let first = pairs(&[
            (":status", "302"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("location", "https://www.example.com"),
        ]);
        assert_eq!(decode(&mut d, &hex(blocks[0])).unwrap(), first);
        assert_table(
            &d,
            &[
                (63, "location", "https://www.example.com"),
                (65, "date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                (52, "cache-control", "private"),
                (42, ":status", "302"),
            ],
            222,
        );

        let f = decode(&mut d, &hex(blocks[1])).unwrap();
        assert_eq!(
            f,
            pairs(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        assert_table(
            &d,
            &[
                (42, ":status", "307"),
                (63, "location", "https://www.example.com"),
                (65, "date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                (52, "cache-control", "private"),
            ],
            222,
        );

        let f = decode(&mut d, &hex(blocks[2])).unwrap();
        assert_eq!(
            f,
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                ("location", "https://www.example.com"),
                ("content-encoding", "gzip"),
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
                ),
            ])
        );
        assert_table(
            &d,
            &[
                (
                    98,
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
                ),
                (52, "content-encoding", "gzip"),
                (65, "date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ],
            215,
        );
    }

    #[test]
    fn c5_responses_without_huffman() {
        responses([
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 \
             2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 \
             6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d \
             54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 \
             5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e \
             3d31",
        ]);
    }

    #[test]
    fn c6_responses_with_huffman() {
        responses([
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ]);
    }

    #[test]
    fn whole_static_table() {
        let mut d: Decoder = Decoder::new();
        let block: Vec<u8> = (1..=61u8).map(|i| 0x80 | i).collect();
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f.len(), 61);
        assert_eq!(f[0], (b":authority".to_vec(), b"".to_vec()));
        assert_eq!(
            f[15],
            (b"accept-encoding".to_vec(), b"gzip, deflate".to_vec())
        );
        assert_eq!(f[60], (b"www-authenticate".to_vec(), b"".to_vec()));
    }

    // ---- malformed blocks ---------------------------------------------------------------

    fn err<const T: usize, const E: usize, const S: usize>(
        d: &mut Decoder<T, E, S>,
        block: &[u8],
    ) -> HpackError {
        decode(d, block).unwrap_err()
    }

    #[test]
    fn bad_indices() {
        let mut d: Decoder = Decoder::new();
        assert_eq!(err(&mut d, &[0x80]), HpackError::BadIndex(0));
        assert_eq!(err(&mut d, &[0x80 | 62]), HpackError::BadIndex(62));
        assert_eq!(err(&mut d, &[0xff, 0x00]), HpackError::BadIndex(127));
        assert_eq!(
            err(&mut d, &encode_integer(u32::MAX, 7, 0x80)),
            HpackError::BadIndex(u32::MAX)
        );
        // Literal names by index: past the tables, with and without indexing.
        assert_eq!(err(&mut d, &[0x40 | 62, 0x00]), HpackError::BadIndex(62));
        assert_eq!(err(&mut d, &[0x0f, 0x2f, 0x00]), HpackError::BadIndex(62));
        assert_eq!(err(&mut d, &[0x1f, 0x30, 0x00]), HpackError::BadIndex(63));
        // One dynamic entry: 62 is fine, 63 is not.
        decode(&mut d, &[0x40, 0x01, b'k', 0x01, b'v']).unwrap();
        assert_eq!(decode(&mut d, &[0x80 | 62]).unwrap(), pairs(&[("k", "v")]));
        assert_eq!(err(&mut d, &[0x80 | 63]), HpackError::BadIndex(63));
    }

    #[test]
    fn truncated_blocks() {
        let mut d: Decoder = Decoder::new();
        for block in [
            &[0xff][..],                     // index integer cut
            &[0xff, 0x80],                   // index integer cut in a continuation
            &[0x40],                         // no name length
            &[0x40, 0x05, b'a'],             // name cut
            &[0x40, 0x01, b'a'],             // no value
            &[0x40, 0x01, b'a', 0x03, b'b'], // value cut
            &[0x04, 0x7f],                   // value length integer cut
            &[0x04, 0x85, 0xff],             // Huffman value cut
            &[0x3f],                         // size update cut
        ] {
            assert_eq!(err(&mut d, block), HpackError::Truncated, "{block:02x?}");
        }
        assert_eq!(
            err(&mut d, &[0x04, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            HpackError::IntegerOverflow
        );
    }

    #[test]
    fn huffman_errors_in_blocks() {
        let mut d: Decoder = Decoder::new();
        // Name of one byte of padding.
        assert_eq!(
            err(&mut d, &[0x40, 0x81, 0xff, 0x00]),
            HpackError::HuffmanPadding
        );
        // Value with EOS.
        assert_eq!(
            err(&mut d, &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]),
            HpackError::HuffmanEos
        );
        // Padding with a zero bit ('a' is 00011, then 110).
        assert_eq!(err(&mut d, &[0x04, 0x81, 0x1e]), HpackError::HuffmanPadding);
        assert_eq!(
            decode(&mut d, &[0x04, 0x81, 0x1f]).unwrap(),
            pairs(&[(":path", "a")])
        );
    }

    #[test]
    fn huffman_strings_longer_than_the_scratch() {
        let mut d: Decoder<4096, 128, 16> = Decoder::new();
        let block = |s: &[u8]| {
            let coded = huffman_encode(s);
            let mut b = vec![0x04];
            b.extend(encode_integer(coded.len() as u32, 7, 0x80));
            b.extend(coded);
            b
        };
        assert_eq!(
            decode(&mut d, &block(&[b'x'; 16])).unwrap(),
            pairs(&[(":path", "xxxxxxxxxxxxxxxx")])
        );
        assert_eq!(err(&mut d, &block(&[b'x'; 17])), HpackError::StringTooLong);
        // Raw strings are borrowed from the block: no limit.
        let mut raw_block = vec![0x04];
        raw_block.extend(encode_integer(100, 7, 0));
        raw_block.extend([b'y'; 100]);
        assert_eq!(decode(&mut d, &raw_block).unwrap()[0].1.len(), 100);
    }

    #[test]
    fn size_updates() {
        let mut d: Decoder<256, 8> = Decoder::new();
        // Above the limit.
        assert_eq!(
            err(&mut d, &[0x3f, 0xe2, 0x01]),
            HpackError::TableSizeUpdateTooLarge(257)
        );
        // After a field.
        assert_eq!(
            err(&mut d, &[0x82, 0x20]),
            HpackError::TableSizeUpdateNotFirst
        );
        // Two at the start (lower, then back to the limit) are fine.
        assert_eq!(
            decode(&mut d, &[0x20, 0x3f, 0xe1, 0x01, 0x82]).unwrap(),
            pairs(&[(":method", "GET")])
        );
        assert_eq!(d.max_table_size(), 256);
        // Fill: three entries of 40.
        for v in [b"a", b"b", b"c"] {
            decode(&mut d, &[0x40 | 8, 0x01, v[0]]).unwrap();
        }
        assert_table(
            &d,
            &[
                (40, ":status", "c"),
                (40, ":status", "b"),
                (40, ":status", "a"),
            ],
            120,
        );
        // Down to 100 evicts the oldest; then up to 256 keeps the rest.
        decode(&mut d, &[0x3f, 0x45]).unwrap();
        assert_eq!(d.max_table_size(), 100);
        assert_table(&d, &[(40, ":status", "c"), (40, ":status", "b")], 80);
        decode(&mut d, &[0x3f, 0xe1, 0x01]).unwrap();
        assert_table(&d, &[(40, ":status", "c"), (40, ":status", "b")], 80);
        // To 0 empties the table, and nothing fits any more until the size grows.
        decode(&mut d, &[0x20, 0x40 | 8, 0x01, b'd']).unwrap();
        assert_table(&d, &[], 0);
        assert_eq!(d.max_table_size(), 0);
    }

    #[test]
    fn entry_larger_than_the_table_empties_it() {
        let mut d: Decoder<256, 8> = Decoder::new();
        decode(&mut d, &[0x40 | 8, 0x01, b'a']).unwrap();
        let mut block = vec![0x40 | 8];
        block.extend(encode_integer(256 - 32 - 7 + 1, 7, 0));
        block.extend(vec![b'z'; 256 - 32 - 7 + 1]);
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f[0].1.len(), 218);
        assert_table(&d, &[], 0);
        // Exactly the maximum size fits.
        block = vec![0x40 | 8];
        block.extend(encode_integer(256 - 32 - 7, 7, 0));
        block.extend(vec![b'z'; 256 - 32 - 7]);
        decode(&mut d, &block).unwrap();
        assert_eq!((d.table_len(), d.table_size()), (1, 256));
    }

    #[test]
    fn name_of_an_entry_that_the_insertion_evicts() {
        // §4.4: the name is read before (or despite) eviction.
        let mut d: Decoder<128, 4> = Decoder::new();
        let name = b"x-a-rather-long-header-name-0123"; // 32 bytes
        let mut block = vec![0x40, 32];
        block.extend_from_slice(name);
        block.extend([30]);
        block.extend([b'1'; 30]); // size 94
        decode(&mut d, &block).unwrap();
        // Name by index 62, value of 20: 84 more; the referenced entry goes.
        let mut block = vec![0x40 | 62, 20];
        block.extend([b'2'; 20]);
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f[0].0, name);
        let two = String::from_utf8(vec![b'2'; 20]).unwrap();
        let n = std::str::from_utf8(name).unwrap();
        assert_table(&d, &[(84, n, &two)], 84);
        // Again and again, naming the oldest entry, so that the entry named is evicted while
        // the live bytes are rotated to the front of the array.
        let mut d: Decoder<128, 4> = Decoder::new();
        decode(&mut d, &[0x40, 0x02, b'n', b'0', 0x00]).unwrap();
        decode(&mut d, &[0x40, 0x02, b'n', b'1', 0x00]).unwrap();
        let mut rotations = 0;
        for round in 0..40u8 {
            let oldest = d.table_entry(d.table_len() - 1).unwrap().0.to_vec();
            let len = 10 + round % 25;
            let mut block = encode_integer(61 + d.table_len() as u32, 6, 0x40);
            block.push(len);
            block.extend(vec![round; usize::from(len)]);
            let end_before = d.table.end;
            let f = decode(&mut d, &block).unwrap();
            assert_eq!(f[0].0, oldest);
            assert_eq!(
                d.table_entry(0).unwrap(),
                (&oldest[..], &vec![round; usize::from(len)][..])
            );
            if d.table.end < end_before {
                rotations += 1;
            }
        }
        assert!(rotations > 3, "{rotations}");
        let mut d: Decoder<128, 4> = Decoder::new();
        decode(&mut d, &{
            let mut b = vec![0x40, 32];
            b.extend_from_slice(name);
            b.push(0);
            b
        })
        .unwrap();
        // An entry larger than the table, named by the entry it evicts: table emptied.
        let mut block = vec![0x40 | 62, 70];
        block.extend([b'4'; 70]);
        let f = decode(&mut d, &block).unwrap();
        assert_eq!(f[0].0, name);
        assert_table(&d, &[], 0);
    }

    #[test]
    fn display_and_debug() {
        assert_eq!(
            HpackError::BadIndex(70).to_string(),
            "HPACK index 70 not in the tables"
        );
        let d: Decoder = Decoder::default();
        assert!(format!("{d:?}").contains("max_size: 4096"));
    }

    // ---- properties ---------------------------------------------------------------------

    /// One field representation, as the encoder of the model test writes it.
    #[derive(Clone, Debug)]
    enum Op {
        /// Indexed field: a static index (1 to 61) or a dynamic one picked from the table.
        Indexed {
            dynamic: bool,
            pick: prop::sample::Index,
        },
        /// Literal: name by static index, by dynamic index, or new; mode 0 with incremental
        /// indexing, 1 without, 2 never indexed.
        Literal {
            name: NameOp,
            value: Vec<u8>,
            mode: u8,
            huffman_name: bool,
            huffman_value: bool,
        },
    }

    #[derive(Clone, Debug)]
    enum NameOp {
        Static(prop::sample::Index),
        Dynamic(prop::sample::Index),
        New(Vec<u8>),
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..max),
            proptest::collection::vec(b'a'..=b'z', 0..max),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let name = prop_oneof![
            any::<prop::sample::Index>().prop_map(NameOp::Static),
            any::<prop::sample::Index>().prop_map(NameOp::Dynamic),
            bytes(60).prop_map(NameOp::New),
        ];
        prop_oneof![
            (any::<bool>(), any::<prop::sample::Index>())
                .prop_map(|(dynamic, pick)| Op::Indexed { dynamic, pick }),
            (name, bytes(120), 0u8..3, any::<bool>(), any::<bool>()).prop_map(
                |(name, value, mode, huffman_name, huffman_value)| Op::Literal {
                    name,
                    value,
                    mode,
                    huffman_name,
                    huffman_value,
                }
            ),
        ]
    }

    /// The dynamic table as RFC 7541 describes it: a list, newest first.
    struct Model {
        entries: Vec<(Vec<u8>, Vec<u8>)>,
        max: usize,
    }

    impl Model {
        fn size(&self) -> usize {
            self.entries
                .iter()
                .map(|(n, v)| n.len() + v.len() + 32)
                .sum()
        }
        fn evict_to(&mut self, max: usize) {
            while self.size() > max {
                self.entries.pop();
            }
        }
        fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
            let size = name.len() + value.len() + 32;
            if size > self.max {
                self.entries.clear();
            } else {
                self.evict_to(self.max - size);
                self.entries.insert(0, (name, value));
            }
        }
    }

    fn string(out: &mut Vec<u8>, s: &[u8], huffman: bool) {
        if huffman {
            let coded = huffman_encode(s);
            out.extend(encode_integer(coded.len() as u32, 7, 0x80));
            out.extend(coded);
        } else {
            out.extend(encode_integer(s.len() as u32, 7, 0));
            out.extend_from_slice(s);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random valid blocks (small table, so eviction and wrap-round are frequent) decode
        /// to what the model expects, and leave the table the model has.
        #[test]
        fn matches_the_model(
            blocks in proptest::collection::vec(
                (proptest::collection::vec(0u32..=300, 0..3), proptest::collection::vec(op(), 0..12)),
                1..6,
            ),
        ) {
            let mut d: Decoder<300, 9> = Decoder::new();
            let mut model = Model { entries: Vec::new(), max: 300 };
            for (updates, ops) in blocks {
                let mut block = Vec::new();
                let mut expect = Vec::new();
                for size in updates {
                    block.extend(encode_integer(size, 5, 0x20));
                    model.max = size as usize;
                    model.evict_to(model.max);
                }
                for op in ops {
                    match op {
                        Op::Indexed { dynamic, pick } => {
                            if dynamic && !model.entries.is_empty() {
                                let i = pick.index(model.entries.len());
                                block.extend(encode_integer(62 + i as u32, 7, 0x80));
                                expect.push(model.entries[i].clone());
                            } else {
                                let i = pick.index(61);
                                block.extend(encode_integer(1 + i as u32, 7, 0x80));
                                let (n, v) = STATIC_TABLE[i];
                                expect.push((n.to_vec(), v.to_vec()));
                            }
                        }
                        Op::Literal { name, value, mode, huffman_name, huffman_value } => {
                            let (prefix, high) = [(6, 0x40), (4, 0x00), (4, 0x10)][usize::from(mode)];
                            let name = match name {
                                NameOp::Dynamic(pick) if !model.entries.is_empty() => {
                                    let i = pick.index(model.entries.len());
                                    block.extend(encode_integer(62 + i as u32, prefix, high));
                                    model.entries[i].0.clone()
                                }
                                NameOp::Static(pick) | NameOp::Dynamic(pick) => {
                                    let i = pick.index(61);
                                    block.extend(encode_integer(1 + i as u32, prefix, high));
                                    STATIC_TABLE[i].0.to_vec()
                                }
                                NameOp::New(n) => {
                                    block.extend(encode_integer(0, prefix, high));
                                    string(&mut block, &n, huffman_name);
                                    n
                                }
                            };
                            string(&mut block, &value, huffman_value);
                            expect.push((name.clone(), value.clone()));
                            if mode == 0 {
                                model.insert(name, value);
                            }
                        }
                    }
                }
                prop_assert_eq!(decode(&mut d, &block).unwrap(), expect);
                prop_assert_eq!(d.table_size(), model.size());
                prop_assert_eq!(d.max_table_size(), model.max);
                let table: Vec<_> = (0..d.table_len())
                    .map(|i| { let (n, v) = d.table_entry(i).unwrap(); (n.to_vec(), v.to_vec()) })
                    .collect();
                prop_assert_eq!(table, model.entries.clone());
            }
        }

        /// Random bytes never panic, and the decoder keeps working afterwards.
        #[test]
        fn random_blocks_never_panic(
            blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6),
        ) {
            let mut d: Decoder<256, 8, 64> = Decoder::new();
            for block in &blocks {
                let _ = decode(&mut d, block);
                prop_assert!(d.table_size() <= d.max_table_size());
                prop_assert!(d.max_table_size() <= 256);
            }
            prop_assert_eq!(decode(&mut d, &[0x82]).unwrap(), pairs(&[(":method", "GET")]));
            // Back to the full size (a random block may have set it to 0), insert, read back.
            decode(&mut d, &[0x3f, 0xe1, 0x01, 0x40, 0x01, b'k', 0x01, b'v']).unwrap();
            prop_assert_eq!(decode(&mut d, &[0x80 | 62]).unwrap(), pairs(&[("k", "v")]));
        }

        /// Every prefix of a valid block is a clean error or a clean success.
        #[test]
        fn prefixes_of_valid_blocks(cut in 0usize..200) {
            let block = hex(
                "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
                 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
                 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            );
            let mut d: Decoder<256, 8> = Decoder::new();
            let _ = decode(&mut d, &block[..cut.min(block.len())]);
        }

        #[test]
        fn integers_round_trip(v in any::<u32>(), prefix in 1u8..=8, high in any::<u8>()) {
            let coded = encode_integer(v, prefix, high);
            prop_assert_eq!(decode_integer(&coded, prefix), Ok((v, coded.len())));
        }
    }
}
