//! Attacks on the request parsers: requests the gateway and the backend behind it could read
//! two ways (duplicate Host, claim or model headers, Content-Length with Transfer-Encoding,
//! a header model that disagrees with the body's, duplicate or escaped JSON `model` keys, a
//! duplicate gRPC `model_name`), each refused by the same rule in HTTP/1.1 and HTTP/2; and a
//! long Huffman-coded header that must pass.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::world::*;
use infersteer::l7::huffman::CODES;
use infersteer::pipeline::Verdict;
use infersteer::verdict::DropReason;

const AMBIGUOUS: Verdict = Verdict::Drop(DropReason::AmbiguousRequest);

/// Sends `payload` as alpha's (10.1/16) first flight and returns the verdict.
fn alpha(w: &mut World, sport: u16, payload: &[u8]) -> Verdict {
    w.one(Pkt::tcp([10, 1, 7, 1], sport, payload))
}

fn h1(extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn http1_two_host_headers_are_refused() {
    let mut w = World::new();
    let r = h1("Host: other\r\nx-ai-eg-model: llama\r\n", "{}");
    assert_eq!(alpha(&mut w, 1, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_a_second_claim_header_is_refused() {
    let mut w = World::new();
    let r = h1(
        "x-gateway-inference-fairness-id: alpha\r\nx-gateway-inference-fairness-id: bravo\r\nx-ai-eg-model: llama\r\n",
        "{}",
    );
    assert_eq!(alpha(&mut w, 2, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_a_second_model_header_is_refused() {
    let mut w = World::new();
    let r = h1("x-ai-eg-model: llama\r\nX-AI-EG-Model: secret\r\n", "{}");
    assert_eq!(alpha(&mut w, 3, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_content_length_with_transfer_encoding_is_refused() {
    let mut w = World::new();
    let r = h1(
        "x-ai-eg-model: llama\r\nTransfer-Encoding: chunked\r\n",
        "{}",
    );
    assert_eq!(alpha(&mut w, 4, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_a_transfer_encoding_not_ending_in_chunked_is_refused() {
    let mut w = World::new();
    let r = b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: llama\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
    assert_eq!(alpha(&mut w, 5, r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_model_header_disagreeing_with_the_body_is_refused() {
    let mut w = World::new();
    let r = h1(
        "x-ai-eg-model: llama\r\n",
        r#"{"model":"secret","messages":[]}"#,
    );
    assert_eq!(alpha(&mut w, 6, &r), AMBIGUOUS);
    // The same model in both places is fine.
    let ok = h1(
        "x-ai-eg-model: llama\r\n",
        r#"{"model":"llama","messages":[]}"#,
    );
    assert_eq!(alpha(&mut w, 7, &ok), Verdict::Gpu { queue: 0 });
    w.check();
}

#[test]
fn http1_kserve_path_disagreeing_with_the_model_header_is_refused() {
    let mut w = World::new();
    let r = b"POST /v2/models/llama/infer HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: secret\r\ncontent-length: 2\r\n\r\n{}";
    assert_eq!(alpha(&mut w, 8, r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_json_model_given_twice_is_refused() {
    let mut w = World::new();
    let r = h1("", r#"{"model":"llama","messages":[],"model":"secret"}"#);
    assert_eq!(alpha(&mut w, 9, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn http1_escaped_json_model_key_counts_as_model() {
    let mut w = World::new();
    // A second, escaped spelling of the key: a duplicate.
    let r = h1("", r#"{"model":"llama","mod\u0065l":"secret"}"#);
    assert_eq!(alpha(&mut w, 10, &r), AMBIGUOUS);
    // Alone, the escaped key is the model a backend reads: checked like any other.
    let r = h1("", r#"{"m\u006fdel":"secret"}"#);
    assert_eq!(
        alpha(&mut w, 11, &r),
        Verdict::Drop(DropReason::ModelNotAllowed)
    );
    w.check();
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 (prior knowledge), HPACK literals without indexing.

fn int(out: &mut Vec<u8>, mut v: usize, prefix_bits: u8, first: u8) {
    let max = (1usize << prefix_bits) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn huffman(bytes: &[u8]) -> Vec<u8> {
    let (mut out, mut acc, mut n) = (Vec::new(), 0u64, 0u32);
    for &b in bytes {
        let (code, len) = CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        n += u32::from(len);
        while n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
        }
    }
    if n > 0 {
        out.push(((acc << (8 - n)) | ((1 << (8 - n)) - 1)) as u8);
    }
    out
}

/// An HPACK block of literal fields without indexing (new names); `huff` Huffman-codes the
/// values.
fn block(fields: &[(&str, &str)], huff: bool) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        b.push(0x00);
        int(&mut b, n.len(), 7, 0);
        b.extend_from_slice(n.as_bytes());
        if huff {
            let h = huffman(v.as_bytes());
            int(&mut b, h.len(), 7, 0x80);
            b.extend(h);
        } else {
            int(&mut b, v.len(), 7, 0);
            b.extend_from_slice(v.as_bytes());
        }
    }
    b
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Preface, SETTINGS, HEADERS (END_HEADERS) on stream 1, and a DATA frame (END_STREAM).
fn h2(fields: &[(&str, &str)], body: &[u8], huff: bool) -> Vec<u8> {
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(4, 0, 0, &[]));
    out.extend(frame(1, 0x4, 1, &block(fields, huff)));
    out.extend(frame(0, 0x1, 1, body));
    out
}

fn chat<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/v1/chat/completions"),
        (":authority", "gw"),
        ("content-type", "application/json"),
    ];
    f.extend_from_slice(extra);
    f
}

#[test]
fn h2_honest_request_passes() {
    let mut w = World::new();
    let r = h2(
        &chat(&[("x-ai-eg-model", "llama")]),
        br#"{"model":"llama"}"#,
        false,
    );
    assert_eq!(alpha(&mut w, 20, &r), Verdict::Gpu { queue: 0 });
    w.check();
}

#[test]
fn h2_two_authorities_or_a_disagreeing_host_are_refused() {
    let mut w = World::new();
    let r = h2(
        &chat(&[(":authority", "other"), ("x-ai-eg-model", "llama")]),
        b"{}",
        false,
    );
    assert_eq!(alpha(&mut w, 21, &r), AMBIGUOUS);
    let r = h2(
        &chat(&[("host", "other"), ("x-ai-eg-model", "llama")]),
        b"{}",
        false,
    );
    assert_eq!(alpha(&mut w, 22, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn h2_a_second_model_or_claim_header_is_refused() {
    let mut w = World::new();
    let r = h2(
        &chat(&[("x-ai-eg-model", "llama"), ("x-ai-eg-model", "secret")]),
        b"{}",
        false,
    );
    assert_eq!(alpha(&mut w, 23, &r), AMBIGUOUS);
    let r = h2(
        &chat(&[
            ("x-ai-eg-model", "llama"),
            ("x-gateway-inference-fairness-id", "alpha"),
            ("x-gateway-inference-fairness-id", "bravo"),
        ]),
        b"{}",
        false,
    );
    assert_eq!(alpha(&mut w, 24, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn h2_transfer_encoding_is_refused() {
    let mut w = World::new();
    let r = h2(
        &chat(&[("x-ai-eg-model", "llama"), ("transfer-encoding", "chunked")]),
        b"{}",
        false,
    );
    assert_eq!(alpha(&mut w, 25, &r), AMBIGUOUS);
    w.check();
}

#[test]
fn h2_model_header_disagreeing_with_the_body_is_refused() {
    let mut w = World::new();
    let r = h2(
        &chat(&[("x-ai-eg-model", "llama")]),
        br#"{"model":"secret"}"#,
        false,
    );
    assert_eq!(alpha(&mut w, 26, &r), AMBIGUOUS);
    let r = h2(&chat(&[]), br#"{"model":"llama","model":"secret"}"#, false);
    assert_eq!(alpha(&mut w, 27, &r), AMBIGUOUS);
    w.check();
}

fn grpc_infer(names: &[&str]) -> Vec<u8> {
    let mut msg = Vec::new();
    for n in names {
        msg.push(0x0a);
        msg.push(n.len() as u8);
        msg.extend_from_slice(n.as_bytes());
    }
    msg.extend([0x12, 1, b'1']); // model_version
    let mut body = vec![0];
    body.extend((msg.len() as u32).to_be_bytes());
    body.extend(msg);
    body
}

#[test]
fn grpc_model_name_given_twice_is_refused() {
    let mut w = World::new();
    let fields = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/inference.GRPCInferenceService/ModelInfer"),
        (":authority", "gw"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ];
    let ok = h2(&fields, &grpc_infer(&["llama"]), false);
    assert_eq!(alpha(&mut w, 28, &ok), Verdict::Gpu { queue: 0 });
    let dup = h2(&fields, &grpc_infer(&["llama", "secret"]), false);
    assert_eq!(alpha(&mut w, 29, &dup), AMBIGUOUS);
    w.check();
}

/// A legitimate 700-byte Huffman-coded authorization header (a long JWT) must pass: HPACK
/// strings are accepted up to the table's size.
#[test]
fn h2_a_700_byte_huffman_authorization_header_passes() {
    let mut w = World::new();
    let token: String = (0..700)
        .map(|i| {
            (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[i % 65]) as char
        })
        .collect();
    let auth = format!("Bearer {token}");
    let r = h2(
        &chat(&[("x-ai-eg-model", "llama"), ("authorization", &auth)]),
        br#"{"model":"llama"}"#,
        true,
    );
    assert_eq!(alpha(&mut w, 30, &r), Verdict::Gpu { queue: 0 });
    w.check();
}
