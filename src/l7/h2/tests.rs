//! HTTP/2 and gRPC classification on hand-built first flights (literal and indexed HPACK,
//! CONTINUATION, padding, priority), RFC 7541 C.4 inside a HEADERS frame, every prefix, every
//! malformed frame, and random bytes.

use super::*;
use proptest::prelude::*;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// A literal header field without indexing, with a literal name (RFC 7541 §6.2.2).
fn lit(name: &str, value: &str) -> Vec<u8> {
    let mut b = vec![0x00, name.len() as u8];
    b.extend(name.as_bytes());
    b.push(value.len() as u8);
    b.extend(value.as_bytes());
    b
}

fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    // :method POST (static 3) and :scheme http (static 6) as indexed fields.
    let mut b = vec![0x83, 0x86];
    for (n, v) in fields {
        b.extend(lit(n, v));
    }
    b
}

fn flight(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    out.extend(frame(
        SETTINGS,
        0,
        0,
        &[0, 3, 0, 0, 0, 100, 0, 4, 0, 0xff, 0xff, 0xff],
    ));
    out.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 0xef, 0, 1]));
    for f in frames {
        out.extend(f);
    }
    out
}

fn grpc_message(fields: &[u8]) -> Vec<u8> {
    let mut m = vec![0];
    m.extend((fields.len() as u32).to_be_bytes());
    m.extend(fields);
    m
}

fn run(bytes: &[u8]) -> Result<RequestInfo, H2Error> {
    let mut state = Box::new(H2State::new());
    let mut info = RequestInfo::default();
    classify_h2(bytes, &mut state, &HeaderNames::DEFAULT, 1024, 0, &mut info).map(|()| info)
}

fn s<const N: usize>(f: &FixedStr<N>) -> &str {
    std::str::from_utf8(f.as_bytes()).unwrap()
}

fn openai_flight() -> Vec<u8> {
    let hb = block(&[
        (":path", "/v1/chat/completions"),
        (":authority", "tenant-a.infer.example"),
        ("x-gateway-inference-fairness-id", "tenant-a"),
        ("x-dynamo-session-id", "sess-99"),
        ("x-priority", "high"),
        ("content-type", "application/json"),
    ]);
    flight(&[
        frame(HEADERS, END_HEADERS, 1, &hb),
        frame(
            DATA,
            END_STREAM,
            1,
            br#"{"messages":[{"model":"no"}],"model":"llama-3.1-8b-instruct"}"#,
        ),
    ])
}

#[test]
fn h2c_openai_request() {
    let info = run(&openai_flight()).unwrap();
    assert_eq!(info.kind, RequestKind::H2);
    assert_eq!(
        (s(&info.method), s(&info.path)),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(s(&info.authority), "tenant-a.infer.example");
    assert_eq!(
        (s(&info.tenant_claim), s(&info.session), s(&info.priority)),
        ("tenant-a", "sess-99", "high")
    );
    assert_eq!(s(&info.model), "llama-3.1-8b-instruct");
}

#[test]
fn continuation_padding_and_priority() {
    let hb = block(&[
        (":path", "/v2/models/resnet50/versions/3/infer"),
        (":authority", "a.example"),
    ]);
    let (first, second) = hb.split_at(7);
    // HEADERS: PADDED (3 bytes of padding) and PRIORITY (5 bytes), no END_HEADERS.
    let mut payload = vec![3];
    payload.extend([0x80, 0, 0, 0, 15]);
    payload.extend(first);
    payload.extend([0, 0, 0]);
    let bytes = flight(&[
        frame(PRIORITY, 0, 3, &[0, 0, 0, 0, 7]),
        frame(HEADERS, PADDED | PRIORITY_FLAG | END_STREAM, 1, &payload),
        frame(CONTINUATION, 0, 1, &second[..3]),
        frame(CONTINUATION, END_HEADERS, 1, &second[3..]),
    ]);
    let info = run(&bytes).unwrap();
    assert_eq!(s(&info.path), "/v2/models/resnet50/versions/3/infer");
    assert_eq!(
        s(&info.model),
        "resnet50",
        "KServe path names the model; END_STREAM: no body"
    );
}

#[test]
fn grpc_model_infer_and_other_methods() {
    let hb = block(&[
        (":path", "/inference.GRPCInferenceService/ModelInfer"),
        (":authority", "kserve.example"),
        ("content-type", "application/grpc"),
        ("x-gateway-inference-fairness-id", "tenant-g"),
    ]);
    let mut pb = vec![0x12, 1, b'1']; // field 2 (model_version) before field 1: any order
    pb.extend([0x0a, 8]);
    pb.extend(b"resnet50");
    pb.extend([0x1a, 2, b'i', b'd']);
    let bytes = flight(&[
        frame(HEADERS, END_HEADERS, 1, &hb),
        frame(DATA, 0, 1, &grpc_message(&pb)),
    ]);
    let info = run(&bytes).unwrap();
    assert_eq!(info.kind, RequestKind::Grpc);
    assert_eq!(
        (s(&info.model), s(&info.tenant_claim)),
        ("resnet50", "tenant-g")
    );

    // ModelInfer without DATA yet: incomplete.
    let headers_only = flight(&[frame(HEADERS, END_HEADERS, 1, &hb)]);
    assert_eq!(run(&headers_only).unwrap_err(), H2Error::Incomplete);

    // Another method needs no body.
    let hb = block(&[
        (":path", "/inference.GRPCInferenceService/ServerLive"),
        ("content-type", "application/grpc+proto"),
    ]);
    let info = run(&flight(&[frame(HEADERS, END_HEADERS, 1, &hb)])).unwrap();
    assert_eq!(
        (info.kind, info.model.is_empty()),
        (RequestKind::Grpc, true)
    );
}

#[test]
fn grpc_message_parsing() {
    let m = grpc_message(&[0x0a, 3, b'a', b'b', b'c']);
    assert_eq!(grpc_model_name(&m).unwrap(), Some(&b"abc"[..]));
    assert_eq!(
        grpc_model_name(&m[..7]).unwrap_err(),
        H2Error::Incomplete,
        "field cut by the end of the frame"
    );
    assert_eq!(grpc_model_name(&m[..3]).unwrap_err(), H2Error::Incomplete);
    let mut compressed = m.clone();
    compressed[0] = 1;
    assert_eq!(grpc_model_name(&compressed).unwrap(), None);
    let mut bad_flag = m.clone();
    bad_flag[0] = 2;
    assert_eq!(
        grpc_model_name(&bad_flag).unwrap_err(),
        H2Error::BadGrpcMessage
    );
    assert_eq!(
        grpc_model_name(&grpc_message(&[0x0b])).unwrap_err(),
        H2Error::BadGrpcMessage,
        "wire type 3"
    );
    assert_eq!(
        grpc_model_name(&grpc_message(&[0x0a, 9, b'x'])).unwrap_err(),
        H2Error::BadGrpcMessage
    );
    assert_eq!(
        grpc_model_name(&grpc_message(&[0x10, 0x96, 0x01])).unwrap(),
        None,
        "no field 1"
    );
    assert_eq!(
        grpc_model_name(&grpc_message(&[
            0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]))
        .unwrap_err(),
        H2Error::BadGrpcMessage,
        "varint over 10 bytes"
    );
}

#[test]
fn rfc7541_c4_block_in_a_headers_frame() {
    // RFC 7541 C.4.1: GET http://www.example.com/ with Huffman-coded authority.
    let hb = [
        0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90,
        0xf4, 0xff,
    ];
    let info = run(&flight(&[frame(HEADERS, END_HEADERS | END_STREAM, 1, &hb)])).unwrap();
    assert_eq!(
        (s(&info.method), s(&info.path), s(&info.authority)),
        ("GET", "/", "www.example.com")
    );
}

#[test]
fn every_prefix_is_incomplete_or_complete() {
    let bytes = openai_flight();
    let full = run(&bytes).unwrap();
    let mut completes = 0;
    for k in 0..bytes.len() {
        match run(&bytes[..k]) {
            Ok(info) => {
                assert_eq!(info, full, "prefix {k}");
                completes += 1;
            }
            Err(e) => assert_eq!(e, H2Error::Incomplete, "prefix {k}"),
        }
    }
    assert_eq!(completes, 0, "the model sits in the last frame");
}

#[test]
fn malformed_frames() {
    let hb = block(&[(":path", "/"), (":authority", "a")]);
    let cases: Vec<(Vec<u8>, H2Error)> = vec![
        (
            b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n".to_vec(),
            H2Error::BadPreface,
        ),
        (
            flight(&[{
                let mut f = frame(DATA, 0, 1, &[]);
                f[0..3].copy_from_slice(&[0, 0x40, 1]);
                f
            }]),
            H2Error::FrameTooLong(16385),
        ),
        (
            flight(&[frame(SETTINGS, 0, 0, &[0; 5])]),
            H2Error::BadFrameLength(SETTINGS),
        ),
        (
            flight(&[frame(SETTINGS, ACK, 0, &[0; 6])]),
            H2Error::BadFrameLength(SETTINGS),
        ),
        (
            flight(&[frame(SETTINGS, 0, 1, &[])]),
            H2Error::BadStream(SETTINGS),
        ),
        (
            flight(&[frame(PING, 0, 0, &[0; 7])]),
            H2Error::BadFrameLength(PING),
        ),
        (
            flight(&[frame(WINDOW_UPDATE, 0, 0, &[0; 3])]),
            H2Error::BadFrameLength(WINDOW_UPDATE),
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS, 0, &hb)]),
            H2Error::BadStream(HEADERS),
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS, 2, &hb)]),
            H2Error::BadStream(HEADERS),
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS | PADDED, 1, &[200, 0x82])]),
            H2Error::BadPadding,
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS | PRIORITY_FLAG, 1, &[0, 0])]),
            H2Error::BadFrameLength(HEADERS),
        ),
        (flight(&[frame(DATA, 0, 1, b"x")]), H2Error::BadStream(DATA)),
        (
            flight(&[frame(CONTINUATION, END_HEADERS, 1, &hb)]),
            H2Error::BadStream(CONTINUATION),
        ),
        (
            flight(&[frame(HEADERS, 0, 1, &hb[..2]), frame(PING, 0, 0, &[0; 8])]),
            H2Error::ContinuationExpected(PING),
        ),
        (
            flight(&[
                frame(HEADERS, 0, 1, &hb[..2]),
                frame(CONTINUATION, END_HEADERS, 3, &hb[2..]),
            ]),
            H2Error::ContinuationExpected(CONTINUATION),
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x80])]),
            H2Error::Hpack(HpackError::BadIndex(0)),
        ),
        (
            flight(&[frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x83])]),
            H2Error::MissingPseudoHeader,
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(run(&bytes).unwrap_err(), want);
    }
    // A header block longer than the buffer: many CONTINUATION frames.
    let mut frames = vec![frame(HEADERS, 0, 1, &[0x83])];
    for _ in 0..5 {
        frames.push(frame(CONTINUATION, 0, 1, &[0x00; 4000]));
    }
    assert_eq!(
        run(&flight(&frames)).unwrap_err(),
        H2Error::HeaderBlockTooLong
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(tail);
        let _ = run(&bytes);
    }

    #[test]
    fn mutated_flights_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = openai_flight();
        for (at, b) in edits {
            let i = PREFACE.len() + at.index(bytes.len() - PREFACE.len());
            bytes[i] = b;
        }
        let _ = run(&bytes);
    }
}

/// The body-prefix hash from the first DATA frame: the first `prefix_bytes` of it, or all of a
/// shorter one that ends the stream; never waited for, and never an error of its own.
#[test]
fn body_prefix_hash_from_the_first_data_frame() {
    let with_prefix = |bytes: &[u8], prefix: usize| {
        let mut state = Box::new(H2State::new());
        let mut info = RequestInfo::default();
        classify_h2(
            bytes,
            &mut state,
            &HeaderNames::DEFAULT,
            1024,
            prefix,
            &mut info,
        )
        .map(|()| info)
    };
    // The model in the path, so the DATA frame is read for the prefix alone.
    let hb = block(&[(":path", "/v2/models/resnet50/infer")]);
    let body = |tail: &str| {
        format!(
            "{{\"inputs\":[{{\"name\":\"system prompt {}\"}}]}}{tail}",
            "x".repeat(300)
        )
    };
    let long_a = body("first question");
    let long_b = body("another question entirely");
    let flight_with = |data: &[u8], flags: u8| {
        flight(&[
            frame(HEADERS, END_HEADERS, 1, &hb),
            frame(DATA, flags, 1, data),
        ])
    };
    let a = with_prefix(&flight_with(long_a.as_bytes(), 0), 256).unwrap();
    let b = with_prefix(&flight_with(long_b.as_bytes(), END_STREAM), 256).unwrap();
    assert_eq!(s(&a.model), "resnet50");
    assert_eq!(
        a.prefix_hash,
        Some(crate::l7::bulk_hash(&long_a.as_bytes()[..256]))
    );
    assert_eq!(
        a.prefix_hash, b.prefix_hash,
        "same first 256 bytes, same hash"
    );
    let c = with_prefix(&flight_with(b"{\"inputs\":[]}", 0), 256).unwrap();
    assert_eq!(
        c.prefix_hash, None,
        "short and the stream goes on: not enough to hash"
    );
    let d = with_prefix(&flight_with(b"{\"inputs\":[]}", END_STREAM), 256).unwrap();
    assert_eq!(
        d.prefix_hash,
        Some(crate::l7::bulk_hash(b"{\"inputs\":[]}"))
    );
    assert_eq!(
        with_prefix(&flight_with(long_a.as_bytes(), 0), 0)
            .unwrap()
            .prefix_hash,
        None
    );
    // Headers only (the DATA frame not here yet), or a broken frame after them: the request is
    // classified from its headers, with no prefix hash.
    let headers_only = flight(&[frame(HEADERS, END_HEADERS, 1, &hb)]);
    let e = with_prefix(&headers_only, 256).unwrap();
    assert_eq!((s(&e.model), e.prefix_hash), ("resnet50", None));
    let mut broken = headers_only.clone();
    broken.extend(frame(DATA, PADDED, 1, &[200, 1, 2]));
    assert_eq!(with_prefix(&broken, 256).unwrap().prefix_hash, None);
}
