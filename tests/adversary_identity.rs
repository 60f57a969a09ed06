//! Attacks on tenant identity: riding on another tenant's flow entry by reusing its 5-tuple
//! from another port, VLAN stack, VNI or tunnel endpoint; tunnels from endpoints nobody
//! configured; SNI names of other tenants. Each test plays one attack and asserts the secure
//! outcome (docs/threat-model.md lists them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::world::*;
use infersteer::pipeline::Verdict;
use infersteer::verdict::DropReason;

/// Queue of pool `p` (one queue per pool in the world).
fn gpu(q: u16) -> Verdict {
    Verdict::Gpu { queue: q }
}

/// Bravo (VLAN 100) opens a flow; an attacker on VLAN 200 sends a segment with the very same
/// 5-tuple. It must not follow bravo's flow entry (no GPU verdict, nothing counted for bravo).
#[test]
fn same_five_tuple_on_another_vlan_is_another_flow() {
    let mut w = World::new();
    let flow = Pkt::tcp([172, 16, 0, 5], 40_000, &request("mistral")).vlan(&[100]);
    assert_eq!(w.one(flow.clone()), gpu(1));
    let before = w.snapshot().tenants[BRAVO as usize];
    let forged = flow
        .clone()
        .vlan(&[200])
        .seq(2000)
        .payload(b"more body bytes");
    let v = w.one(forged);
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    assert_eq!(w.snapshot().tenants[BRAVO as usize], before);
    // Bravo's own next request on the connection (keep-alive) still follows its flow.
    let next = 1000 + request("mistral").len() as u32;
    assert_eq!(w.one(flow.seq(next).payload(&request("mistral"))), gpu(1));
    w.check();
}

/// The same with a QinQ stack that differs only in the inner (C-) tag.
#[test]
fn same_five_tuple_under_another_inner_vlan_tag_is_another_flow() {
    let mut w = World::new();
    let flow = Pkt::tcp([172, 16, 0, 6], 40_001, &request("mistral")).vlan(&[100, 10]);
    assert_eq!(w.one(flow.clone()), gpu(1));
    let forged = flow.clone().vlan(&[100, 11]).payload(b"body");
    // Another flow of bravo's (the outer tag names bravo): a body segment with no request
    // head starts no GPU flow.
    let v = w.one(forged);
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    w.check();
}

/// Alpha is told apart by ingress port 1: the same 5-tuple on port 2 is not alpha's flow.
#[test]
fn same_five_tuple_on_another_ingress_port_is_another_flow() {
    let mut w = World::new();
    let flow = Pkt::tcp([203, 0, 113, 7], 40_002, &request("llama")).port(1);
    assert_eq!(w.one(flow.clone()), gpu(0));
    let before = w.snapshot().tenants[ALPHA as usize];
    let v = w.one(flow.port(2).payload(b"body"));
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    assert_eq!(w.snapshot().tenants[ALPHA as usize], before);
    w.check();
}

/// Charlie (VNI 5000) opens a flow in its tunnel; the same inner 5-tuple in VNI 6000 is not
/// charlie's.
#[test]
fn same_inner_five_tuple_in_another_vni_is_another_flow() {
    let mut w = World::new();
    let flow = Pkt::tcp([10, 200, 0, 1], 40_003, &request("secret")).vxlan(5000, ROGUE_VTEP);
    assert_eq!(w.one(flow.clone()), gpu(2));
    let v = w.one(flow.vxlan(6000, ROGUE_VTEP).payload(b"body"));
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    assert!(w.descs.iter().all(|d| d.tenant == CHARLIE));
    assert_eq!(w.descs.len(), 1);
    w.check();
}

/// Charlie's flow from one VTEP; the same VNI and inner 5-tuple from another VTEP is another
/// flow (its own first flight decides it), never a continuation of charlie's.
#[test]
fn same_tunnelled_flow_from_another_endpoint_is_another_flow() {
    let mut w = World::new();
    let flow = Pkt::tcp([10, 200, 0, 2], 40_004, &request("secret")).vxlan(5000, VTEP);
    assert_eq!(w.one(flow.clone()), gpu(2));
    let v = w.one(
        flow.vxlan(5000, ROGUE_VTEP)
            .seq(5000)
            .payload(b"continuation"),
    );
    assert!(!matches!(v, Verdict::Gpu { .. }), "{v:?}");
    assert_eq!(w.descs.len(), 1);
    w.check();
}

/// A VXLAN frame from an endpoint nobody configured, on a VNI nobody configured, whose inner
/// source lies in delta's prefix: the inner source is not believed, so it is nobody's.
#[test]
fn untrusted_tunnel_cannot_borrow_an_inner_prefix() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp([10, 4, 0, 9], 40_005, &request("llama")).vxlan(7777, ROGUE_VTEP));
    assert_eq!(v, Verdict::Drop(DropReason::UnknownTenant));
    assert_eq!(w.snapshot().tenants[DELTA as usize].rx, 0);
    assert!(w.descs.is_empty());
    w.check();
}

/// The untrusted tunnel is judged by its outer identity: from an outer source in alpha's
/// prefix, the frame is alpha's whatever its inner source says (here delta's prefix).
#[test]
fn untrusted_tunnel_is_judged_by_its_outer_identity() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp([10, 4, 0, 9], 40_006, &request("llama")).vxlan(7777, [10, 1, 9, 9]));
    assert_eq!(v, gpu(0));
    assert_eq!(w.descs[0].tenant, ALPHA);
    assert_eq!(w.snapshot().tenants[DELTA as usize].rx, 0);
    w.check();
}

/// From a configured VTEP, the inner source decides: delta's prefix inside the tunnel is
/// delta (the honest case the two tests above must not break).
#[test]
fn trusted_endpoint_lets_the_inner_source_decide() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp([10, 4, 0, 9], 40_007, &request("llama")).vxlan(7777, VTEP));
    assert_eq!(v, gpu(0));
    assert_eq!(w.descs[0].tenant, DELTA);
    w.check();
}

/// Alpha's port, a ClientHello naming bravo's SNI: a spoof, with its own drop reason, and
/// alpha (the trusted tenant) is charged for it.
#[test]
fn sni_of_another_tenant_is_a_spoof() {
    let mut w = World::new();
    let v = w.one(
        Pkt::tcp([203, 0, 113, 8], 40_008, &client_hello("bravo.example", 0))
            .port(1)
            .dport(TLS),
    );
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedSni));
    let s = w.snapshot();
    assert_eq!(
        s.tenants[ALPHA as usize].drops_for(DropReason::SpoofedSni),
        1
    );
    assert_eq!(s.tenants[BRAVO as usize].rx, 0);
    w.check();
}

/// An SNI that only echo owns, sent from bravo's VLAN: a spoof too (SNI last in the
/// precedence does not make it a free pass).
#[test]
fn sni_only_tenant_cannot_be_claimed_from_another_tenants_vlan() {
    let mut w = World::new();
    let v = w.one(
        Pkt::tcp([172, 16, 0, 9], 40_009, &client_hello("echo.example", 0))
            .vlan(&[100])
            .dport(TLS),
    );
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedSni));
    assert_eq!(w.snapshot().tenants[ECHO as usize].rx, 0);
    w.check();
}

/// From an address no trusted attribute names, the SNI identifies echo (the honest case).
#[test]
fn sni_from_an_unattributed_source_names_its_tenant() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp([203, 0, 113, 9], 40_010, &client_hello("echo.example", 0)).dport(TLS));
    assert_eq!(v, gpu(3));
    assert_eq!(w.descs[0].tenant, ECHO);
    w.check();
}

/// A request claiming another tenant in its fairness header is refused (existing defence,
/// kept): claims are checked, never believed.
#[test]
fn claim_header_naming_another_tenant_is_refused() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp(
        [10, 1, 0, 10],
        40_011,
        &request_with("llama", "x-gateway-inference-fairness-id: bravo\r\n"),
    ));
    assert_eq!(v, Verdict::Drop(DropReason::SpoofedTenant));
    assert_eq!(w.snapshot().tenants[BRAVO as usize].rx, 0);
    w.check();
}

/// Alpha asks for the model only charlie may use: refused, and nothing reaches charlie's
/// pool.
#[test]
fn model_of_another_tenant_is_refused() {
    let mut w = World::new();
    let v = w.one(Pkt::tcp([10, 1, 0, 11], 40_012, &request("secret")));
    assert_eq!(v, Verdict::Drop(DropReason::ModelNotAllowed));
    assert!(w.descs.is_empty());
    w.check();
}
