//! The HTTP/2 follower on hand-built connections: requests read through the connection's
//! HPACK table (dynamic entries from earlier blocks and trailers), models in bodies, every
//! segmentation, the limits, malformed frames, random bytes.

use super::*;
use crate::l7::h2::{SETTINGS, WINDOW_UPDATE};
use proptest::prelude::*;
use std::string::String;
use std::vec::Vec;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// A literal field with a literal name: without indexing (`0x00`) or with incremental
/// indexing (`0x40`, the field enters the dynamic table).
fn lit(prefix: u8, name: &str, value: &str) -> Vec<u8> {
    let mut b = vec![prefix, name.len() as u8];
    b.extend(name.as_bytes());
    b.push(value.len() as u8);
    b.extend(value.as_bytes());
    b
}

/// :method POST, :scheme http, :path `path`, then `more`.
fn block(path: &str, more: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0x83, 0x86];
    b.extend(lit(0x00, ":path", path));
    for m in more {
        b.extend(m);
    }
    b
}

fn headers(stream: u32, end_stream: bool, block: &[u8]) -> Vec<u8> {
    frame(
        HEADERS,
        END_HEADERS | if end_stream { END_STREAM } else { 0 },
        stream,
        block,
    )
}

fn data(stream: u32, payload: &[u8]) -> Vec<u8> {
    frame(DATA, END_STREAM, stream, payload)
}

fn grpc_infer(model: &str) -> Vec<u8> {
    let mut fields = vec![0x0a, model.len() as u8];
    fields.extend(model.as_bytes());
    let mut m = vec![0];
    m.extend((fields.len() as u32).to_be_bytes());
    m.extend(fields);
    m
}

/// Frames after the preface: SETTINGS, WINDOW_UPDATE, then `frames`.
fn conn(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    out.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 0xef, 0, 1]));
    for f in frames {
        out.extend(f);
    }
    out
}

/// Feeds `bytes` in the pieces `cuts` gives, to a follower whose first request was decided;
/// the check refuses the model `secret`. Returns the models checked and the stop.
fn follow(bytes: &[u8], cuts: &[usize]) -> (Vec<String>, Result<(), H2Stop<&'static str>>) {
    let mut c = Box::new(H2Conn::new());
    c.start(true, 0);
    let mut hpack: Box<Decoder> = Box::default();
    let mut seen = Vec::new();
    let mut check = |i: &RequestInfo| {
        seen.push(String::from_utf8_lossy(i.model.as_bytes()).into_owned());
        if i.model.as_bytes() == b"secret" {
            Err("refused")
        } else {
            Ok(())
        }
    };
    let mut at = 0;
    let mut out = Ok(());
    for &cut in cuts.iter().chain([bytes.len()].iter()) {
        let cut = cut.clamp(at, bytes.len());
        out = c.feed(
            &bytes[at..cut],
            &mut hpack,
            &HeaderNames::DEFAULT,
            1024,
            &mut check,
        );
        at = cut;
        if out.is_err() {
            break;
        }
    }
    (seen, out)
}

fn every_cut(bytes: &[u8], want_seen: &[&str], want: Result<(), H2Stop<&'static str>>) {
    for cut in 0..=bytes.len() {
        let (seen, got) = follow(bytes, &[cut]);
        assert_eq!(got, want, "cut at {cut}");
        assert_eq!(seen, want_seen, "cut at {cut}");
    }
    // And byte by byte.
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    let (seen, got) = follow(bytes, &cuts);
    assert_eq!(
        (seen.as_slice(), got),
        (
            want_seen
                .iter()
                .map(|s| String::from(*s))
                .collect::<Vec<_>>()
                .as_slice(),
            want
        )
    );
}

#[test]
fn later_streams_are_read_through_the_connections_dynamic_table() {
    // Stream 1 (decided from the first flight) puts `x-ai-eg-model: llama` in the table;
    // stream 3 names it by index 62 only; stream 5 names `secret` literally.
    let bytes = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x40, "x-ai-eg-model", "llama")]),
        ),
        headers(3, true, &block("/v1/chat", &[vec![0x80 | 62]])),
        headers(
            5,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "secret")]),
        ),
    ]);
    every_cut(
        &bytes,
        &["llama", "secret"],
        Err(H2Stop::Refused("refused")),
    );
}

#[test]
fn trailers_keep_the_table_in_step() {
    // The first stream's trailers insert `x-ai-eg-model: secret`, newer than `llama`: index
    // 62 on stream 3 is `secret` now, as the backend's decoder reads it.
    let bytes = conn(&[
        headers(
            1,
            false,
            &block("/v1/chat", &[lit(0x40, "x-ai-eg-model", "llama")]),
        ),
        data(1, br#"{"model":"llama"}"#),
        headers(1, true, &lit(0x40, "x-ai-eg-model", "secret")),
        headers(3, true, &block("/v1/chat", &[vec![0x80 | 62]])),
    ]);
    every_cut(&bytes, &["secret"], Err(H2Stop::Refused("refused")));
}

#[test]
fn a_model_named_by_the_body_is_checked_when_the_body_comes() {
    let json = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        headers(3, false, &block("/v1/chat/completions", &[])),
        frame(WINDOW_UPDATE, 0, 0, &[0, 0, 0, 1]),
        data(3, br#"{"stream":true,"model":"mistral","messages":[]}"#),
        headers(5, false, &block("/v1/chat/completions", &[])),
        data(5, br#"{"model":"secret"}"#),
    ]);
    every_cut(
        &json,
        &["mistral", "secret"],
        Err(H2Stop::Refused("refused")),
    );

    let mut grpc_block = block("/inference.GRPCInferenceService/ModelInfer", &[]);
    grpc_block.extend(lit(0x00, "content-type", "application/grpc"));
    let grpc = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        headers(3, false, &grpc_block),
        data(3, &grpc_infer("llama")),
        headers(5, false, &grpc_block),
        data(5, &grpc_infer("secret")),
    ]);
    every_cut(&grpc, &["llama", "secret"], Err(H2Stop::Refused("refused")));
}

#[test]
fn a_body_that_disagrees_with_its_headers_is_ambiguous_first_stream_included() {
    let mismatch = Err(H2Stop::Malformed(H2Error::Ambiguous(
        crate::l7::Ambiguity::ModelMismatch,
    )));
    // The first flight's request named `llama` in a header; its body, in a later segment,
    // names another model.
    let first = conn(&[
        headers(
            1,
            false,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        data(1, br#"{"model":"secret"}"#),
    ]);
    every_cut(&first, &[], mismatch);
    let later = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        headers(
            3,
            false,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        data(3, br#"{"model":"secret"}"#),
    ]);
    every_cut(&later, &["llama"], mismatch);
    let twice = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        headers(3, false, &block("/v1/chat", &[])),
        data(3, br#"{"model":"llama","model":"secret"}"#),
    ]);
    every_cut(
        &twice,
        &[],
        Err(H2Stop::Malformed(H2Error::Ambiguous(
            crate::l7::Ambiguity::DuplicateJsonModel,
        ))),
    );
}

#[test]
fn continuation_padding_and_priority_on_later_streams() {
    let b = block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "secret")]);
    let (a, rest) = b.split_at(5);
    let mut padded = vec![3u8]; // pad length
    padded.extend([0x80, 0, 0, 1, 16]); // priority: exclusive, depends on 1, weight
    padded.extend(a);
    padded.extend([0, 0, 0]);
    let bytes = conn(&[
        headers(
            1,
            true,
            &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
        ),
        frame(HEADERS, END_STREAM | PADDED | PRIORITY_FLAG, 3, &padded),
        frame(CONTINUATION, END_HEADERS, 3, rest),
    ]);
    every_cut(&bytes, &["secret"], Err(H2Stop::Refused("refused")));
}

#[test]
fn what_is_not_kept_makes_the_connection_unfollowable() {
    let first = headers(
        1,
        true,
        &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
    );
    // A header block over BLOCK_MAX.
    let big = "a".repeat(120);
    let mut long = block("/v1/chat", &[]);
    while long.len() <= BLOCK_MAX {
        long.extend(lit(0x00, "x-pad", &big));
    }
    let (a, b) = long.split_at(3000);
    let bytes = conn(&[
        first.clone(),
        frame(HEADERS, 0, 3, a),
        frame(CONTINUATION, END_HEADERS, 3, b),
    ]);
    assert_eq!(follow(&bytes, &[]).1, Err(H2Stop::Unfollowable));
    // A table size update over what the decoder holds (5000: 0x3f e9 26).
    let mut resize = vec![0x3f, 0xe9, 0x26];
    resize.extend(block("/v1/chat", &[]));
    let bytes = conn(&[first.clone(), headers(3, true, &resize)]);
    assert_eq!(follow(&bytes, &[]).1, Err(H2Stop::Unfollowable));
    // A second request waiting for its body while one does.
    let bytes = conn(&[
        first.clone(),
        headers(3, false, &block("/v1/chat", &[])),
        headers(5, false, &block("/v1/chat", &[])),
    ]);
    assert_eq!(follow(&bytes, &[]).1, Err(H2Stop::Unfollowable));
    // Cancelled before its body: nothing waits any more.
    let bytes = conn(&[
        first,
        headers(3, false, &block("/v1/chat", &[])),
        frame(RST_STREAM, 0, 3, &[0, 0, 0, 8]),
        headers(5, false, &block("/v1/chat", &[])),
    ]);
    assert_eq!(follow(&bytes, &[]), (vec![], Ok(())));
}

#[test]
fn malformed_frames_stop_the_follower() {
    let first = headers(
        1,
        true,
        &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "llama")]),
    );
    let cases: Vec<(Vec<u8>, H2Error)> = vec![
        (
            frame(5, END_HEADERS, 3, &[0, 0, 0, 2]),
            H2Error::BadStream(5),
        ),
        (
            headers(4, true, &block("/", &[])),
            H2Error::BadStream(HEADERS),
        ),
        (
            headers(0, true, &block("/", &[])),
            H2Error::BadStream(HEADERS),
        ),
        (
            frame(CONTINUATION, END_HEADERS, 3, &[0x83]),
            H2Error::BadStream(CONTINUATION),
        ),
        (
            frame(DATA, 0, 1, &[0; 16_385][..]),
            H2Error::FrameTooLong(16_385),
        ),
        (
            headers(3, true, &[0x83, 0x86]),
            H2Error::MissingPseudoHeader,
        ),
        (
            headers(3, true, &[0xff, 0xff]),
            H2Error::Hpack(HpackError::Truncated),
        ),
        (
            frame(HEADERS, END_HEADERS | PADDED, 3, &[9, 0x83]),
            H2Error::BadPadding,
        ),
    ];
    for (bad, want) in cases {
        let bytes = conn(&[first.clone(), bad]);
        assert_eq!(
            follow(&bytes, &[]).1,
            Err(H2Stop::Malformed(want)),
            "{want:?}"
        );
    }
    // HEADERS without END_HEADERS, then anything but its CONTINUATION.
    let bytes = conn(&[
        first,
        frame(HEADERS, 0, 3, &[0x83]),
        frame(DATA, 0, 3, b"x"),
    ]);
    assert_eq!(
        follow(&bytes, &[]).1,
        Err(H2Stop::Malformed(H2Error::ContinuationExpected(DATA)))
    );
}

#[test]
fn the_first_decided_request_is_not_asked_again_but_upgraded_streams_start_after_one() {
    let b = conn(&[headers(
        1,
        true,
        &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "secret")]),
    )]);
    assert_eq!(follow(&b, &[]), (vec![], Ok(())));
    // After `Upgrade: h2c` stream 1 was the HTTP/1.1 request: stream 3 is the first asked.
    let mut c = Box::new(H2Conn::new());
    c.start(false, 1);
    let mut hpack: Box<Decoder> = Box::default();
    let b = conn(&[headers(
        3,
        true,
        &block("/v1/chat", &[lit(0x00, "x-ai-eg-model", "secret")]),
    )]);
    let got = c.feed(
        &b,
        &mut hpack,
        &HeaderNames::DEFAULT,
        1024,
        &mut |_| Err(()),
    );
    assert_eq!(got, Err(H2Stop::Refused(())));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
        let mut c = Box::new(H2Conn::new());
        c.start(true, 0);
        let mut hpack: Box<Decoder> = Box::default();
        let mut ok = |_: &RequestInfo| Ok::<(), ()>(());
        for ch in &chunks {
            if c.feed(ch, &mut hpack, &HeaderNames::DEFAULT, 1024, &mut ok).is_err() {
                break;
            }
        }
    }

    #[test]
    fn random_frames_after_a_real_request_never_panic(frames in proptest::collection::vec((0u8..12, any::<u8>(), 0u32..8, proptest::collection::vec(any::<u8>(), 0..64)), 0..12), cut in 0usize..400) {
        let mut parts = vec![headers(1, true, &block("/v1/chat", &[lit(0x40, "x-ai-eg-model", "llama")]))];
        for (k, fl, s, p) in &frames {
            parts.push(frame(*k, *fl, *s, p));
        }
        let bytes = conn(&parts);
        let _ = follow(&bytes, &[cut]);
    }
}

#[test]
fn a_follower_stays_small() {
    // The pool's memory is this times `PipelineConfig::h2_connections`.
    let size = core::mem::size_of::<H2Conn>();
    std::println!("H2Conn: {size} bytes");
    assert!(size < 14 * 1024, "{size}");
}
