//! HPACK (RFC 7541) and its Huffman code against `fluke-hpack`, an independent decoder: the
//! input is a sequence of header blocks (each a 2-byte big-endian length and its bytes; the
//! last runs to the end) decoded with one table, as on one connection; each
//! block gives the same fields in the same order from both decoders, or an error from both.
//! Every Huffman string is compared alone too.
//!
//! Decisions: a block that holds only dynamic table size updates (RFC 7541 §4.2 puts them at
//! a block's start and bounds nothing else) is taken by infersteer, with no field, where
//! fluke-hpack refuses it (`SizeUpdateAtEnd`); the HTTP/2 request check then finds no
//! `:method` and refuses the request, so nothing is lost. A size update after a field is
//! refused by infersteer (`TableSizeUpdateNotFirst`: RFC 7541 §4.2 puts it at the block's
//! start) where fluke-hpack takes it. infersteer refuses a Huffman-coded string that decodes to more than its 4 KiB
//! scratch buffer (`StringTooLong`), where fluke-hpack, which allocates, takes it; such a block
//! ends the comparison. fluke-hpack panics on a dynamic table size update whose integer does
//! not decode (an `unwrap` in its decoder): such a block is not compared, and infersteer must
//! refuse it. After an error both decoders' tables are undefined (HTTP/2 ends the
//! connection with COMPRESSION_ERROR), so the comparison ends there too.

use infersteer::l7::hpack::{Decoder, HpackError};
use infersteer::l7::huffman;

/// One input.
pub fn run(data: &[u8]) {
    let mut blocks = Vec::new();
    let mut rest = data;
    while let Some((&[a, b], tail)) = rest.split_first_chunk::<2>() {
        let n = usize::from(u16::from_be_bytes([a, b])).min(tail.len());
        blocks.push(&tail[..n]);
        rest = &tail[n..];
    }
    let mut ours: Box<Decoder> = Box::default();
    let mut theirs = fluke_hpack::Decoder::new();
    // HTTP/2's SETTINGS_HEADER_TABLE_SIZE default, infersteer's limit (RFC 7541 §6.3).
    theirs.set_max_allowed_table_size(4096);
    for block in blocks {
        huffman_alone(block);
        let mut fields = Vec::new();
        let mine = ours.decode_block(block, &mut |n: &[u8], v: &[u8]| {
            fields.push((n.to_vec(), v.to_vec()))
        });
        let Some(other) = crate::quietly(|| theirs.decode(block)) else {
            assert!(
                mine.is_err(),
                "infersteer takes {block:02x?}, which fluke-hpack panics on"
            );
            return;
        };
        match (mine, other) {
            (Ok(()), Ok(f)) => assert_eq!(fields, f, "fields of block {block:02x?}"),
            (Err(HpackError::StringTooLong | HpackError::TableSizeUpdateNotFirst), _) => return,
            (Ok(()), Err(fluke_hpack::decoder::DecoderError::SizeUpdateAtEnd))
                if fields.is_empty() =>
            {
                return
            }
            (Err(_), Err(_)) => return,
            (m, o) => panic!(
                "decoders disagree on {block:02x?}: infersteer {m:?} {fields:?}, fluke-hpack {o:?}"
            ),
        }
    }
}

fn huffman_alone(src: &[u8]) {
    let mut dst = vec![0u8; src.len() * 8 / 5 + 8];
    let mine = huffman::decode(src, &mut dst).map(|n| dst[..n].to_vec());
    let Some(theirs) = crate::quietly(|| fluke_hpack::huffman::HuffmanDecoder::new().decode(src))
    else {
        return;
    };
    match (mine, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "Huffman {src:02x?}"),
        (Err(_), Err(_)) => {}
        (m, o) => {
            panic!("Huffman decoders disagree on {src:02x?}: infersteer {m:?}, fluke-hpack {o:?}")
        }
    }
}
