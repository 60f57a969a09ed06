//! Attacks on per-connection state: requests after the first on a connection (keep-alive,
//! pipelining, chunked bodies, further HTTP/2 streams) that the tenant may not make or that
//! the connection's GPU queue cannot serve, holes in the stream, and 5-tuples reused after a
//! connection closed. Every request meets the policy; steering stays per connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::world::*;
use infersteer::pipeline::Verdict;
use infersteer::verdict::DropReason;

const Q0: Verdict = Verdict::Gpu { queue: 0 };

/// A request with a JSON body of `body` bytes (the model in the header).
fn req_body(model: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: {model}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The connection's segments, one per payload, with consecutive sequence numbers from 1000.
fn segments(base: &Pkt, payloads: &[&[u8]]) -> Vec<Pkt> {
    let mut seq = 1000u32;
    payloads
        .iter()
        .map(|p| {
            let s = base.clone().seq(seq).payload(p);
            seq += p.len() as u32;
            s
        })
        .collect()
}

#[test]
fn a_keep_alive_request_for_a_forbidden_model_is_refused() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 1], 1, b"");
    let v = w.send(&segments(
        &c,
        &[&request("llama"), &request("secret"), b"more"],
    ));
    assert_eq!(v[0], Q0);
    assert_eq!(v[1], Verdict::Drop(DropReason::ModelNotAllowed));
    // The connection is refused from there on.
    assert!(matches!(v[2], Verdict::Drop(_)), "{v:?}");
    assert_eq!(w.descs.len(), 1);
    w.check();
}

#[test]
fn a_pipelined_request_in_the_same_segment_is_checked() {
    let mut w = World::new();
    let mut two = request("llama");
    two.extend(request("secret"));
    let v = w.one(Pkt::tcp([10, 1, 8, 2], 2, &two));
    assert_eq!(v, Verdict::Drop(DropReason::ModelNotAllowed));
    assert!(w.descs.is_empty());
    w.check();
}

#[test]
fn a_keep_alive_request_with_a_spoofed_claim_is_refused() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 3], 3, b"");
    let spoof = request_with("llama", "x-gateway-inference-fairness-id: bravo\r\n");
    let v = w.send(&segments(&c, &[&request("llama"), &spoof]));
    assert_eq!(v, [Q0, Verdict::Drop(DropReason::SpoofedTenant)]);
    w.check();
}

/// Alpha may use mistral, but its connection went to llama's queue: the later mistral request
/// goes to the host path, never to the wrong GPU, and so does the rest of the connection.
#[test]
fn a_keep_alive_request_the_connections_pool_cannot_serve_goes_to_the_host() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 4], 4, b"");
    let v = w.send(&segments(
        &c,
        &[&request("llama"), &request("mistral"), &request("llama")],
    ));
    assert_eq!(v, [Q0, Verdict::Host, Verdict::Host]);
    assert_eq!(w.descs.len(), 1);
    w.check();
}

/// An allowed keep-alive request on the same queue's model follows the connection.
#[test]
fn an_allowed_keep_alive_request_follows_the_connection() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 5], 5, b"");
    let body = "x".repeat(3000);
    let first = req_body("llama", &body);
    let (head, rest) = first.split_at(first.len() - 3000);
    let v = w.send(&segments(
        &c,
        &[head, &rest[..1500], &rest[1500..], &request("llama")],
    ));
    assert_eq!(v, [Q0, Q0, Q0, Q0]);
    w.check();
}

/// Bytes inside a body that look like a request head are body: not mistaken for a request.
#[test]
fn a_request_hidden_inside_a_body_is_body() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 6], 6, b"");
    let inner = request("secret");
    let body = String::from_utf8(inner.clone()).unwrap();
    let first = req_body("llama", &body);
    let (head, rest) = first.split_at(first.len() - inner.len());
    let v = w.send(&segments(&c, &[head, rest]));
    assert_eq!(v, [Q0, Q0]);
    w.check();
}

/// A chunked request body is followed chunk by chunk across segments; the request after it
/// is checked.
#[test]
fn the_request_after_a_chunked_body_is_checked() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 7], 7, b"");
    let head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: llama\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let v = w.send(&segments(
        &c,
        &[
            &head,
            b"5\r\nhello\r\n6\r\n wor",
            b"ld\r\n0\r\n\r\n",
            &request("secret"),
        ],
    ));
    assert_eq!(v[..3], [Q0, Q0, Q0]);
    assert_eq!(v[3], Verdict::Drop(DropReason::ModelNotAllowed));
    w.check();
}

/// A segment after a hole in the stream (where the next request starts) is not passed
/// unchecked: dropped until the sender fills the hole.
#[test]
fn a_segment_past_a_hole_at_a_request_boundary_is_held_back() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 8], 8, &request("llama")).seq(1000);
    assert_eq!(w.one(c.clone()), Q0);
    let next = 1000 + request("llama").len() as u32;
    let v = w.one(c.clone().seq(next + 10).payload(b"anything at all"));
    assert_eq!(v, Verdict::Drop(DropReason::Reassembly));
    // The request that fills the hole is checked as usual.
    assert_eq!(
        w.one(c.seq(next).payload(&request("secret"))),
        Verdict::Drop(DropReason::ModelNotAllowed)
    );
    w.check();
}

/// After a FIN the 5-tuple is free: a new connection on it is classified afresh, not steered
/// by the old connection's decision.
#[test]
fn a_five_tuple_reused_after_fin_is_a_new_flow() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 9], 9, &request("llama")).seq(1000);
    assert_eq!(w.one(c.clone()), Q0);
    let end = 1000 + request("llama").len() as u32;
    w.one(c.clone().seq(end).payload(b"").flags(FIN_ACK));
    assert_eq!(w.snapshot().flows.live, 0);
    let v = w.one(c.seq(50_000).payload(b"continuation bytes, no request"));
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    w.check();
}

/// A SYN on a 5-tuple whose entry is still there starts a new connection: the old decision is
/// dropped with the old connection.
#[test]
fn a_syn_on_an_established_five_tuple_starts_over() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 10], 10, &request("llama")).seq(1000);
    assert_eq!(w.one(c.clone()), Q0);
    w.one(c.clone().seq(77).payload(b"").flags(SYN));
    let v = w.one(c.seq(78).payload(b"body bytes that are no request"));
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    w.check();
}

/// A RST ends the connection too.
#[test]
fn a_rst_retires_the_flow() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 11], 11, &request("llama")).seq(1000);
    assert_eq!(w.one(c.clone()), Q0);
    w.one(c.seq(1100).payload(b"").flags(RST));
    assert_eq!(w.snapshot().flows.live, 0);
    w.check();
}

fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// HPACK literal fields without indexing.
fn hpack(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        b.push(0);
        b.push(n.len() as u8);
        b.extend_from_slice(n.as_bytes());
        b.push(v.len() as u8);
        b.extend_from_slice(v.as_bytes());
    }
    b
}

/// HPACK literal fields with incremental indexing: each enters the connection's dynamic
/// table.
fn hpack_indexed(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = hpack(fields);
    let mut i = 0;
    for (n, v) in fields {
        b[i] = 0x40;
        i += 3 + n.len() + v.len();
    }
    b
}

const CHAT: [(&str, &str); 4] = [
    (":method", "POST"),
    (":scheme", "http"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
];

/// A prior-knowledge HTTP/2 first flight whose stream 1 carries `block`.
fn h2_first(block: &[u8]) -> Vec<u8> {
    let mut first = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    first.extend(h2_frame(4, 0, 0, &[]));
    first.extend(h2_frame(1, 0x5, 1, block));
    first
}

/// A later HTTP/2 stream is read through the connection's own HPACK table: stream 3 names
/// its model only by a dynamic-table index that stream 1 filled (`llama`, allowed: it keeps
/// to the queue); stream 5's model is forbidden: refused, and the connection with it.
#[test]
fn a_later_h2_stream_is_checked_through_the_connections_hpack_table() {
    let mut w = World::new();
    let mut fields = CHAT.to_vec();
    fields.push(("x-ai-eg-model", "llama"));
    let first = h2_first(&hpack_indexed(&fields));
    // Index 62 is the newest dynamic entry: `x-ai-eg-model: llama`.
    let mut by_index = hpack(&CHAT);
    by_index.push(0x80 | 62);
    let second = h2_frame(1, 0x5, 3, &by_index);
    let mut secret = CHAT.to_vec();
    secret.push(("x-ai-eg-model", "secret"));
    let third = h2_frame(1, 0x5, 5, &hpack(&secret));
    let ping = h2_frame(6, 0, 0, &[0; 8]);
    let c = Pkt::tcp([10, 1, 8, 12], 12, b"");
    let v = w.send(&segments(&c, &[&first, &second, &ping, &third, &ping]));
    assert_eq!(v[..3], [Q0, Q0, Q0]);
    assert_eq!(v[3], Verdict::Drop(DropReason::ModelNotAllowed));
    assert!(matches!(v[4], Verdict::Drop(_)), "{v:?}");
    assert_eq!(w.descs.len(), 3);
    w.check();
}

/// A later stream whose model only its JSON body names: the HEADERS segment (no body, nothing
/// a backend can run) keeps to the queue; the DATA is read before it passes, and a forbidden
/// model there is refused. A model the queue's pool does not serve sends the connection to
/// the host path instead.
#[test]
fn a_later_h2_streams_body_names_its_model_and_is_checked_before_it_passes() {
    let mut w = World::new();
    let mut fields = CHAT.to_vec();
    fields.push(("x-ai-eg-model", "llama"));
    let first = h2_first(&hpack(&fields));
    let headers = |s: u32| h2_frame(1, 0x4, s, &hpack(&CHAT));
    let body = |s: u32, m: &str| {
        h2_frame(
            0,
            0x1,
            s,
            format!(r#"{{"model":"{m}","messages":[]}}"#).as_bytes(),
        )
    };
    let c = Pkt::tcp([10, 1, 8, 15], 15, b"");
    let (h3, d3, h5, d5) = (headers(3), body(3, "llama"), headers(5), body(5, "secret"));
    let v = w.send(&segments(&c, &[&first, &h3, &d3, &h5, &d5]));
    assert_eq!(v[..4], [Q0, Q0, Q0, Q0]);
    assert_eq!(v[4], Verdict::Drop(DropReason::ModelNotAllowed));
    // mistral is allowed but served by another pool than queue 0's.
    let c = Pkt::tcp([10, 1, 8, 16], 16, b"");
    let (h3, d3) = (headers(3), body(3, "mistral"));
    let v = w.send(&segments(&c, &[&first, &h3, &d3]));
    assert_eq!(v, [Q0, Q0, Verdict::Host]);
    w.check();
}

/// The followers (one HPACK table each) are a bounded pool with a cap per tenant: an HTTP/2
/// connection that finds none goes to the host path, never to a GPU unchecked; one tenant at
/// its cap leaves the others theirs; a connection that ends gives its follower back.
#[test]
fn h2_followers_are_bounded_per_tenant_and_given_back() {
    let mut w = World::with_config(infersteer::pipeline::PipelineConfig {
        h2_connections: 3,
        tenant_h2_connections: 2,
        ..infersteer::pipeline::PipelineConfig::default()
    });
    let mut fields = CHAT.to_vec();
    fields.push(("x-ai-eg-model", "llama"));
    let first = h2_first(&hpack(&fields));
    let open = |w: &mut World, host: u8| {
        w.one(Pkt::tcp([10, 1, 9, host], 100 + u16::from(host), &first).seq(1000))
    };
    assert_eq!(open(&mut w, 1), Q0);
    assert_eq!(open(&mut w, 2), Q0);
    // alpha is at its cap: its third connection is not followed, so it is not steered.
    assert_eq!(open(&mut w, 3), Verdict::Host);
    // bravo still has the pool's last follower.
    let mut bravo = CHAT.to_vec();
    bravo.push(("x-ai-eg-model", "mistral"));
    let v = w.one(Pkt::tcp([172, 16, 6, 9], 4000, &h2_first(&hpack(&bravo))).vlan(&[100]));
    assert_eq!(v, Verdict::Gpu { queue: 1 });
    // alpha's first connection ends: its follower goes back, and a new connection gets it.
    let fin = Pkt::tcp([10, 1, 9, 1], 101, b"")
        .seq(1000 + first.len() as u32)
        .flags(FIN_ACK);
    w.one(fin);
    assert_eq!(open(&mut w, 4), Q0);
    w.check();
}

/// A connection that goes quiet until its flow entry ages out holds no follower for good:
/// the next HTTP/2 connection that needs one takes it back.
#[test]
fn an_aged_out_h2_connection_gives_its_follower_back() {
    let mut w = World::with_config(infersteer::pipeline::PipelineConfig {
        flow_capacity: 64,
        flow_idle_ns: 50_000,
        h2_connections: 1,
        ..infersteer::pipeline::PipelineConfig::default()
    });
    let mut fields = CHAT.to_vec();
    fields.push(("x-ai-eg-model", "llama"));
    let first = h2_first(&hpack(&fields));
    assert_eq!(w.one(Pkt::tcp([10, 1, 9, 1], 101, &first)), Q0);
    assert_eq!(w.one(Pkt::tcp([10, 1, 9, 2], 102, &first)), Verdict::Host);
    // Idle: the sweep ages the entries out (a few slots per burst).
    w.now += 1_000_000;
    for i in 0..64u16 {
        w.one(Pkt::tcp([100, 64, 0, 1], 5000 + i, b"x"));
    }
    assert_eq!(w.snapshot().flows.live, 0);
    assert_eq!(w.one(Pkt::tcp([10, 1, 9, 3], 103, &first)), Q0);
    w.check();
}

/// After a tenant's SYN, a first flight must start right after it: one injected at another
/// sequence number is not taken (held back), and the real one still is.
#[test]
fn a_first_flight_not_right_after_the_syn_is_not_taken() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 13], 13, b"");
    assert_eq!(w.one(c.clone().seq(5000).flags(SYN)), Verdict::Host);
    let forged = c.clone().seq(9000).payload(&request("mistral"));
    assert_eq!(w.one(forged), Verdict::Drop(DropReason::Reassembly));
    assert_eq!(w.one(c.seq(5001).payload(&request("llama"))), Q0);
    w.check();
}

/// SYNs from unknown senders leave no state; a tenant's SYN flood stays within its share.
#[test]
fn syns_create_state_only_for_tenants_within_their_share() {
    let mut w = World::with_config(infersteer::pipeline::PipelineConfig {
        flow_capacity: 1024,
        ..infersteer::pipeline::PipelineConfig::default()
    });
    let unknown: Vec<Pkt> = (0..500u16)
        .map(|i| Pkt::tcp([100, 64, 2, i as u8], 100 + i, b"").flags(SYN))
        .collect();
    w.send(&unknown);
    assert_eq!(w.snapshot().flows.live, 0);
    let flood: Vec<Pkt> = (0..2000u16)
        .map(|i| Pkt::tcp([10, 1, (i >> 8) as u8, i as u8], 1000 + i, b"").flags(SYN))
        .collect();
    w.send(&flood);
    assert!(w.snapshot().flows.live <= 512);
    // Another tenant still opens connections.
    let v = w.one(Pkt::tcp([172, 16, 6, 1], 3000, &request("mistral")).vlan(&[100]));
    assert_eq!(v, Verdict::Gpu { queue: 1 });
    w.check();
}

/// curl's `--http2` over cleartext: an HTTP/1.1 request with `Upgrade: h2c`, then (after the
/// server's 101) the preface and frames. The upgraded request is stream 1; its DATA follows
/// the connection; stream 3 is checked like any request (allowed: on the queue), and stream
/// 5's forbidden model is refused.
#[test]
fn an_h2c_upgrade_is_followed_as_http2() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 14], 14, b"");
    let upgrade = request_with(
        "llama",
        "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n",
    );
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend(h2_frame(4, 0, 0, &[]));
    let data = h2_frame(0, 0, 1, b"more of stream 1");
    let mut fields = CHAT.to_vec();
    fields.push(("x-ai-eg-model", "llama"));
    let second = h2_frame(1, 0x5, 3, &hpack(&fields));
    fields[4].1 = "secret";
    let third = h2_frame(1, 0x5, 5, &hpack(&fields));
    let v = w.send(&segments(&c, &[&upgrade, &preface, &data, &second, &third]));
    assert_eq!(v[..4], [Q0, Q0, Q0, Q0]);
    assert_eq!(v[4], Verdict::Drop(DropReason::ModelNotAllowed));
    w.check();
}

/// Reassembly slots open now (opened and neither released nor expired).
fn slots_held(w: &World) -> u64 {
    let r = w.snapshot().reassembly;
    r.opened - r.released - r.expired
}

/// A keep-alive request that names its model only in its JSON body, its head and body sent
/// apart (as OpenAI clients write them): the request is gathered and checked when the body
/// comes. The head's segment goes to the host (as a first flight's leading segments do); the
/// body's, checked, to the connection's queue; a forbidden model there is refused, and the
/// connection with it.
#[test]
fn a_keep_alive_request_whose_body_names_the_model_in_the_next_segment_is_gathered_and_checked() {
    let body_only = |m: &str| {
        let body = format!(r#"{{"model":"{m}","messages":[]}}"#);
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        (head.into_bytes(), body.into_bytes())
    };
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 20], 20, b"");
    let (h1, b1) = body_only("llama");
    let (h2, b2) = body_only("secret");
    let v = w.send(&segments(
        &c,
        &[&request("llama"), &h1, &b1, &h2, &b2, b"more"],
    ));
    assert_eq!(v[..4], [Q0, Verdict::Host, Q0, Verdict::Host]);
    assert_eq!(v[4], Verdict::Drop(DropReason::ModelNotAllowed));
    assert!(matches!(v[5], Verdict::Drop(_)), "{v:?}");
    assert_eq!(w.descs.len(), 2);
    // The gathers gave their slots back.
    assert_eq!(slots_held(&w), 0);
    w.check();
}

/// A keep-alive request whose head spans segments (a long authorization header) is gathered
/// and checked: an allowed model keeps the connection on its queue from the completing
/// segment on (its body segments take the express lane); a forbidden one is refused.
#[test]
fn a_keep_alive_head_that_spans_segments_is_gathered_and_checked() {
    let token = format!("authorization: Bearer {}\r\n", "t".repeat(1800));
    for (model, ok) in [("llama", true), ("secret", false)] {
        let mut w = World::new();
        let c = Pkt::tcp([10, 1, 8, 21], 21, b"");
        let second = request_with(model, &token);
        let (a, b) = second.split_at(1000);
        let (b, rest) = b.split_at(b.len() - 10);
        let v = w.send(&segments(
            &c,
            &[&request("llama"), a, b, rest, &request("llama")],
        ));
        assert_eq!(v[..3], [Q0, Verdict::Host, Verdict::Host], "{model}");
        if ok {
            assert_eq!(v[3..], [Q0, Q0]);
            assert_eq!(w.descs.len(), 3);
        } else {
            assert_eq!(v[3], Verdict::Drop(DropReason::ModelNotAllowed));
            assert!(matches!(v[4], Verdict::Drop(_)), "{v:?}");
            assert_eq!(w.descs.len(), 1);
        }
        assert_eq!(slots_held(&w), 0);
        w.check();
    }
}

/// A request pipelined behind a first flight, cut by the flight's last segment: the flight's
/// slot gathers on; the segment holding unchecked bytes never reaches a GPU queue, and the
/// second request is checked when it is all there.
#[test]
fn a_pipelined_request_cut_by_the_first_flights_end_is_gathered() {
    let mut w = World::new();
    let mut two = request("llama");
    let second = request("secret");
    two.extend_from_slice(&second[..20]);
    let v = w.send(&segments(
        &Pkt::tcp([10, 1, 8, 22], 22, b""),
        &[&two, &second[20..]],
    ));
    assert_eq!(
        v,
        [Verdict::Host, Verdict::Drop(DropReason::ModelNotAllowed)]
    );
    assert!(w.descs.is_empty());
    assert_eq!(slots_held(&w), 0);
    w.check();
}

/// The same behind a first flight that itself spans segments: the first flight's slot goes on
/// gathering the cut request, which an allowed model then takes to the queue.
#[test]
fn a_pipelined_request_cut_by_a_gathered_first_flights_end_is_gathered_on() {
    let token = format!("authorization: Bearer {}\r\n", "t".repeat(1200));
    for (model, last) in [
        ("llama", Q0),
        ("secret", Verdict::Drop(DropReason::ModelNotAllowed)),
    ] {
        let mut w = World::new();
        let first = request_with("llama", &token);
        let second = request(model);
        let (a, b) = first.split_at(700);
        let mut b = b.to_vec();
        b.extend_from_slice(&second[..50]);
        let c = Pkt::tcp([10, 1, 8, 26], 26, b"");
        let v = w.send(&segments(&c, &[a, &b, &second[50..]]));
        assert_eq!(v, [Verdict::Host, Verdict::Host, last], "{model}");
        assert_eq!(slots_held(&w), 0);
        w.check();
    }
}

/// Gathered bytes are what was checked: a segment that rewrites them (an overlap with other
/// bytes, the classic evasion) drops the connection instead of passing as a retransmission.
#[test]
fn a_segment_that_rewrites_gathered_bytes_drops_the_connection() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 23], 23, b"");
    let first = request("llama");
    let second = request("llama");
    let at = 1000 + first.len() as u32;
    let v = w.send(&segments(&c, &[&first, &second[..40]]));
    assert_eq!(v, [Q0, Verdict::Host]);
    // The same length as gathered and more, one byte of the gathered part rewritten.
    let mut forged = second[..60].to_vec();
    forged[6] = b'X';
    let v = w.one(c.clone().seq(at).payload(&forged));
    assert_eq!(v, Verdict::Drop(DropReason::Reassembly));
    let v = w.one(c.seq(at + 40).payload(&second[40..]));
    assert!(matches!(v, Verdict::Drop(_)), "{v:?}");
    assert_eq!(slots_held(&w), 0);
    w.check();
}

/// A head that never ends is gathered only up to a slot's size, then the connection goes to
/// the host path (never a GPU queue); a connection that closes while gathering gives its
/// slot back; and gathers come from the tenant's share of the pool: a tenant at its cap is
/// sent to the host path, not let through unchecked.
#[test]
fn gathers_are_bounded_given_back_and_capped_per_tenant() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 24], 24, b"");
    let endless = b"POST /v1/chat/completions HTTP/1.1\r\nx-pad: ".to_vec();
    let pad = vec![b'a'; 1400];
    let mut parts: Vec<&[u8]> = vec![&[], &endless];
    parts.extend(std::iter::repeat(&pad[..]).take(4));
    let first = request("llama");
    parts[0] = &first;
    let v = w.send(&segments(&c, &parts));
    assert_eq!(v[0], Q0);
    assert!(v[1..].iter().all(|v| *v == Verdict::Host), "{v:?}");
    assert_eq!(slots_held(&w), 0);

    // A FIN while gathering.
    let c = Pkt::tcp([10, 1, 8, 25], 25, b"");
    let v = w.send(&segments(&c, &[&first, &endless]));
    assert_eq!(v, [Q0, Verdict::Host]);
    assert_eq!(slots_held(&w), 1);
    let end = 1000 + (first.len() + endless.len()) as u32;
    w.one(c.seq(end).payload(b"").flags(FIN_ACK));
    assert_eq!(slots_held(&w), 0);
    w.check();

    // Two slots per tenant: alpha's third gather finds none and goes to the host path.
    let mut w = World::with_config(infersteer::pipeline::PipelineConfig {
        tenant_reassembly_slots: 2,
        ..infersteer::pipeline::PipelineConfig::default()
    });
    let second = request("llama");
    let conns: Vec<Vec<Pkt>> = (0..3u8)
        .map(|h| {
            let c = Pkt::tcp([10, 1, 8, 30 + h], 30 + u16::from(h), b"");
            segments(&c, &[&first, &second[..30], &second[30..]])
        })
        .collect();
    // Three connections start a gather each, one after the other.
    for c in &conns {
        assert_eq!(w.send(&c[..2]), [Q0, Verdict::Host]);
    }
    assert_eq!(slots_held(&w), 2);
    // bravo's share is its own: its gather is taken.
    let b = Pkt::tcp([172, 16, 6, 9], 4100, b"").vlan(&[100]);
    let bravo = segments(&b, &[&request("mistral"), &second[..30]]);
    assert_eq!(w.send(&bravo), [Verdict::Gpu { queue: 1 }, Verdict::Host]);
    assert_eq!(slots_held(&w), 3);
    // The first two are checked when their heads are all there; the third was not gathered:
    // its connection goes on on the host path.
    assert_eq!(w.send(&[conns[0][2].clone()]), [Q0]);
    assert_eq!(w.send(&[conns[1][2].clone()]), [Q0]);
    assert_eq!(w.send(&[conns[2][2].clone()]), [Verdict::Host]);
    w.check();
}

/// Same length as each other: an allowed and a forbidden request.
fn pair() -> (Vec<u8>, Vec<u8>) {
    let a = request_with("llama", "x: ab\r\n");
    let f = request_with("secret", "x: a\r\n");
    assert_eq!(a.len(), f.len());
    (a, f)
}

/// Alpha's connection at `host`: an allowed request, then a segment with the allowed
/// request `a` and the first bytes of another: that segment opens a gather (host). Returns
/// the world, the connection, the sequence number of `a`, the forged twin of `a` and the
/// gathered request.
fn gather_after_pipelined(host: u8) -> (World, Pkt, u32, Vec<u8>, Vec<u8>) {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, host], u16::from(host), b"");
    let first = request("llama");
    let (a, forged) = pair();
    let b = request("llama");
    let mut seg1 = a;
    seg1.extend_from_slice(&b[..20]);
    let v = w.send(&segments(&c, &[&first, &seg1]));
    assert_eq!(v, [Q0, Verdict::Host]);
    (w, c, 1000 + first.len() as u32, forged, b)
}

/// A segment that starts at a pipelined request sent to the host with a gather's opening
/// segment and rewrites it: compared with the gathered bytes, it never reaches a GPU queue.
#[test]
fn a_segment_rewriting_the_bytes_before_a_gathered_request_is_compared() {
    let (mut w, c, at, forged, b) = gather_after_pipelined(40);
    let mut evil = forged;
    evil.extend_from_slice(&b);
    let v = w.one(c.seq(at).payload(&evil));
    assert!(
        !matches!(v, Verdict::Gpu { .. }),
        "forged request reached GPU: {v:?}"
    );
    w.check();
}

/// During a gather, a retransmission that rewrites the bytes sent with the opening segment
/// is compared with them: it never reaches a GPU queue.
#[test]
fn a_retransmission_rewriting_bytes_sent_with_a_gather_is_compared() {
    let (mut w, c, at, forged, _) = gather_after_pipelined(41);
    let v = w.one(c.seq(at).payload(&forged));
    assert!(
        !matches!(v, Verdict::Gpu { .. }),
        "forged request reached GPU: {v:?}"
    );
    w.check();
}

/// A refused gather gives its slot back once (no release of a stale slot).
#[test]
fn a_refused_gather_gives_its_slot_back_once() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 44], 44, b"");
    let first = request("llama");
    let second = request("secret");
    let v = w.send(&segments(&c, &[&first, &second[..40], &second[40..]]));
    assert_eq!(v[2], Verdict::Drop(DropReason::ModelNotAllowed));
    let r = w.snapshot().reassembly;
    assert_eq!(r.opened - r.released - r.expired, 0);
    assert_eq!(r.unknown_slot, 0, "double release: {r:?}");
    w.check();
}

/// A chunked body's tail sent with a gather's opening segment, rewritten in an overlapping
/// segment to end the body and smuggle a request: compared, it never reaches a GPU queue.
#[test]
fn a_chunked_tail_rewritten_before_a_gathered_request_is_compared() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 45], 45, b"");
    let head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nx-ai-eg-model: llama\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let b = request("llama");
    let smuggled = request("secret");
    // Chunk of N data bytes, then the last chunk: replaced by "0\r\n\r\n" + a forbidden request.
    let n = smuggled.len(); // data bytes
    let mut tail = format!("{n:x}\r\n").into_bytes();
    tail.extend(vec![b'z'; n]);
    tail.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut evil_tail = b"0\r\n\r\n".to_vec();
    evil_tail.extend_from_slice(&smuggled);
    // Leading zeros pad it to the tail's length: "000…0\r\n\r\n" is still the last chunk.
    assert!(
        evil_tail.len() <= tail.len(),
        "{} {}",
        evil_tail.len(),
        tail.len()
    );
    while evil_tail.len() < tail.len() {
        evil_tail.insert(0, b'0');
    }
    let mut seg1 = tail.clone();
    seg1.extend_from_slice(&b[..20]);
    let v = w.send(&segments(&c, &[&head, &seg1]));
    assert_eq!(v, [Q0, Verdict::Host], "{v:?}");
    let at = 1000 + head.len() as u32;
    let mut evil = evil_tail.clone();
    evil.extend_from_slice(&b);
    let v = w.one(c.seq(at).payload(&evil));
    assert!(
        !matches!(v, Verdict::Gpu { .. }),
        "smuggled request reached GPU: {v:?}"
    );
    w.check();
}

/// Bytes that went to the host while a later request was gathered never reached the GPU
/// queue: a segment that repeats them later, once the request is decided (an honest
/// retransmission, or a forged one with other bytes, here a forbidden model), goes to the host
/// as they did, and so does one that reaches into them from before. The connection's later
/// segments still take its queue.
#[test]
fn a_forged_retransmission_of_gathered_bytes_never_reaches_a_gpu_queue() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 30], 30, b"");
    let first = request("llama");
    let second = request_with("llama", &format!("x-pad: {}\r\n", "p".repeat(200)));
    let (a, b) = second.split_at(70);
    let at = 1000 + first.len() as u32;
    let v = w.send(&segments(&c, &[&first, a, b]));
    assert_eq!(v, [Q0, Verdict::Host, Q0]);
    let descs = w.descs.len();
    // The forged request: the same length, another model.
    let mut forged = request_with("secret", &format!("x-pad: {}\r\n", "p".repeat(201)));
    forged.truncate(70);
    assert_ne!(&forged[..], a);
    for p in [
        c.clone().seq(at).payload(&forged),
        c.clone().seq(at).payload(a),
        c.clone().seq(at + 10).payload(&forged[10..]),
        // From the end of the first request into the host's bytes.
        c.clone()
            .seq(at - 5)
            .payload(&[&first[first.len() - 5..], &forged[..]].concat()),
    ] {
        assert_eq!(w.one(p), Verdict::Host);
    }
    assert_eq!(w.descs.len(), descs, "nothing forged was queued");
    // The bytes that went to the GPU queue and what follows them keep to it.
    let end = at + second.len() as u32;
    assert_eq!(w.one(c.clone().seq(at + 70).payload(b)), Q0);
    assert_eq!(w.one(c.clone().seq(end).payload(&request("llama"))), Q0);
    w.check();
}

/// The same for a first flight that spans segments: its leading segment went to the host
/// before the flight was classified, so a later segment at its sequence numbers (another
/// request there) goes to the host, never to the queue the flight was steered to.
#[test]
fn a_forged_retransmission_of_a_first_flights_leading_segment_never_reaches_a_gpu_queue() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 31], 31, b"");
    let first = request_with("llama", &format!("x-pad: {}\r\n", "p".repeat(200)));
    let (a, b) = first.split_at(60);
    let v = w.send(&segments(&c, &[a, b]));
    assert_eq!(v, [Verdict::Host, Q0]);
    let mut forged = request("secret");
    forged.truncate(60);
    assert_eq!(w.one(c.clone().seq(1000).payload(&forged)), Verdict::Host);
    assert_eq!(w.descs.len(), 1);
    let end = 1000 + first.len() as u32;
    assert_eq!(w.one(c.clone().seq(end).payload(&request("llama"))), Q0);
    // A later request for a forbidden model is still refused where it starts.
    let after = end + request("llama").len() as u32;
    assert_eq!(
        w.one(c.seq(after).payload(&request("secret"))),
        Verdict::Drop(DropReason::ModelNotAllowed)
    );
    w.check();
}

/// A TLS passthrough connection whose ClientHello spans two segments (a post-quantum key
/// share): a later segment rewriting the hello's first segment, which went to the host, goes
/// to the host; the connection's records after the hello keep to its queue.
#[test]
fn a_forged_rewrite_of_a_two_segment_client_hello_never_reaches_a_gpu_queue() {
    let mut w = World::new();
    let hello = client_hello("echo.example", 1800);
    let (a, b) = hello.split_at(1200);
    let c = Pkt::tcp([203, 0, 113, 30], 40_030, b"").dport(TLS);
    let v = w.send(&segments(&c, &[a, b]));
    assert_eq!(v, [Verdict::Host, Verdict::Gpu { queue: 3 }]);
    let forged = client_hello("alpha.example", 1800);
    assert_eq!(
        w.one(c.clone().seq(1000).payload(&forged[..1200])),
        Verdict::Host
    );
    let end = 1000 + hello.len() as u32;
    let record = [&[0x17, 0x03, 0x03, 0x00, 0x20][..], &[0xab; 32]].concat();
    assert_eq!(
        w.one(c.seq(end).payload(&record)),
        Verdict::Gpu { queue: 3 }
    );
    assert_eq!(w.descs.len(), 2);
    w.check();
}

/// Insertion with a bad checksum (the backend discards the segment, so its retransmission
/// may carry other bytes): a segment whose checksum does not hold is never classified,
/// followed, gathered or let end a flow. The allowed keep-alive request sent with a bad
/// checksum is dropped, and the forbidden one then sent at its sequence numbers is checked
/// as a request, not passed as a retransmission; a first flight likewise; a RST or SYN with a
/// bad checksum leaves the connection as it was.
#[test]
fn a_segment_with_a_bad_checksum_is_never_classified_or_followed() {
    let mut w = World::new();
    let c = Pkt::tcp([10, 1, 8, 40], 40, b"");
    let first = request("llama");
    // A first flight with a bad checksum: dropped, no flow made.
    let v = w.send(&[c.clone().seq(1000).payload(&first).bad_checksum()]);
    assert_eq!(v, [Verdict::Drop(DropReason::BadChecksum)]);
    assert_eq!(w.snapshot().flows.live, 0);
    assert_eq!(w.one(c.clone().seq(1000).payload(&first)), Q0);
    let at = 1000 + first.len() as u32;
    // The allowed second request, its checksum wrong, then the forbidden one in its place.
    let allowed = request("llama");
    let v = w.send(&[c.clone().seq(at).payload(&allowed).bad_checksum()]);
    assert_eq!(v, [Verdict::Drop(DropReason::BadChecksum)]);
    let mut forbidden = request("secret");
    forbidden.resize(allowed.len(), b' ');
    // A RST and a SYN with bad checksums end nothing.
    let v = w.send(&[
        c.clone().seq(at).flags(0x14).bad_checksum(),
        c.clone().seq(at).flags(0x02).bad_checksum(),
    ]);
    assert_eq!(v, [Verdict::Drop(DropReason::BadChecksum); 2]);
    assert_eq!(w.snapshot().flows.live, 1);
    assert_eq!(
        w.one(c.clone().seq(at).payload(&forbidden)),
        Verdict::Drop(DropReason::ModelNotAllowed)
    );
    w.check();
}

/// With `verify_checksums` off (captures whose checksums the sender's NIC was to fill in),
/// the same first flight is classified.
#[test]
fn checksums_are_not_checked_when_the_configuration_says_so() {
    let mut w = World::with_config(infersteer::pipeline::PipelineConfig {
        verify_checksums: false,
        ..Default::default()
    });
    let c = Pkt::tcp([10, 1, 8, 41], 41, b"");
    let v = w.send(&[c.seq(1000).payload(&request("llama")).bad_checksum()]);
    assert_eq!(v, [Q0]);
    w.check();
}
