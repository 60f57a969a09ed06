//! Unit tests of the policy tables: validation errors, resolution precedence, SNI wildcards,
//! admission.

use super::*;
use crate::l7::FixedStr;
use alloc::string::ToString;
use alloc::vec;
use core::net::{Ipv4Addr, Ipv6Addr};

fn s(x: &str) -> String {
    x.to_string()
}

fn base() -> PolicyConfig {
    let mut a = TenantConfig::new("acme");
    a.identity.ports = vec![1];
    a.identity.vnis = vec![100];
    a.identity.prefixes = vec![IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16)];
    a.identity.sni = vec![s("api.acme.example"), s("*.acme.example")];
    a.models = vec![s("llama-3-70b")];
    a.default_model = Some(s("llama-3-70b"));
    a.pools = vec![0];
    let mut b = TenantConfig::new("globex");
    b.claims = vec![s("globex"), s("globex-batch")];
    b.identity.vlans = vec![42];
    b.identity.vnis = vec![200];
    b.identity.prefixes = vec![
        IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 0)), 24),
        IpPrefix::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
            32,
        ),
    ];
    b.identity.sni = vec![s("*.eu.acme.example")];
    b.models = vec![s("*")];
    b.pools = vec![1];
    PolicyConfig {
        tenants: vec![a, b],
        models: vec![s("llama-3-70b"), s("mixtral-8x7b")],
        pools: 2,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    }
}

fn build(c: &PolicyConfig) -> PolicyTable {
    PolicyTable::build(c).unwrap()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<Source> {
    Some(Source::V4(u32::from_be_bytes([a, b, c, d])))
}

#[test]
fn each_attribute_resolves_and_precedence_orders_them() {
    let t = build(&base());
    let acme = Some(TenantId(0));
    let globex = Some(TenantId(1));
    let r = |tr: Trusted<'_>| t.resolve(&tr);
    assert_eq!(
        r(Trusted {
            port: Some(1),
            ..Trusted::default()
        }),
        acme
    );
    assert_eq!(
        r(Trusted {
            vlan: Some(42),
            ..Trusted::default()
        }),
        globex
    );
    assert_eq!(
        r(Trusted {
            vni: Some(200),
            ..Trusted::default()
        }),
        globex
    );
    assert_eq!(
        r(Trusted {
            src: v4(10, 1, 9, 9),
            ..Trusted::default()
        }),
        acme
    );
    // Longest prefix: 10.1.2.0/24 (globex) inside 10.1.0.0/16 (acme).
    assert_eq!(
        r(Trusted {
            src: v4(10, 1, 2, 9),
            ..Trusted::default()
        }),
        globex
    );
    let v6 = Some(Source::V6(
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1).octets(),
    ));
    assert_eq!(
        r(Trusted {
            src: v6,
            ..Trusted::default()
        }),
        globex
    );
    assert_eq!(
        r(Trusted {
            port: Some(2),
            vni: Some(7),
            ..Trusted::default()
        }),
        None
    );
    // Port beats VNI by default.
    let both = Trusted {
        port: Some(1),
        vni: Some(200),
        ..Trusted::default()
    };
    assert_eq!(r(both), acme);
    // Configured precedence: VNI first.
    let mut c = base();
    c.precedence = vec![Attribute::Vni, Attribute::Port];
    let t2 = build(&c);
    assert_eq!(t2.resolve(&both), globex);
    // The burst form agrees, attribute by attribute.
    let burst = [
        Trusted {
            port: Some(1),
            ..Trusted::default()
        },
        Trusted {
            vlan: Some(42),
            ..Trusted::default()
        },
        both,
        Trusted {
            src: v4(10, 1, 2, 9),
            ..Trusted::default()
        },
        Trusted::default(),
    ];
    let mut out = [Some(TenantId(7)); 6];
    t.resolve_burst(&burst, &mut out);
    assert_eq!(out, [acme, globex, acme, globex, None, Some(TenantId(7))]);
    // Attributes left out of the precedence are not used.
    assert_eq!(
        t2.resolve(&Trusted {
            vlan: Some(42),
            ..Trusted::default()
        }),
        None
    );
}

#[test]
fn sni_exact_beats_wildcard_and_longest_suffix_wins() {
    let t = build(&base());
    let r = |name: &[u8]| {
        t.resolve(&Trusted {
            sni: Some(name),
            ..Trusted::default()
        })
    };
    assert_eq!(r(b"api.acme.example"), Some(TenantId(0)));
    assert_eq!(r(b"API.Acme.Example"), Some(TenantId(0)));
    assert_eq!(r(b"x.y.acme.example"), Some(TenantId(0)));
    assert_eq!(r(b"gpu.eu.acme.example"), Some(TenantId(1)));
    assert_eq!(
        r(b"acme.example"),
        None,
        "*.acme.example needs a label before it"
    );
    assert_eq!(r(b"evilacme.example"), None);
    assert_eq!(r(b""), None);
}

#[test]
fn config_errors_name_the_field() {
    let check = |c: PolicyConfig, want: &str| {
        let e = PolicyTable::build(&c).unwrap_err();
        assert_eq!(e.to_string(), want);
    };
    let mut c = base();
    c.tenants[1].identity.vnis.push(100);
    check(
        c,
        "tenants[1].identity.vnis[1]: duplicate (also given at index 0)",
    );
    let mut c = base();
    c.tenants[0].identity.vnis.push(1 << 24);
    check(c, "tenants[0].identity.vnis[1]: out of range");
    let mut c = base();
    c.tenants[0].identity.vlans.push(4095);
    check(c, "tenants[0].identity.vlans[0]: out of range");
    let mut c = base();
    c.tenants[1].identity.prefixes[0].len = 8;
    check(
        c,
        "tenants[1].identity.prefixes[0]: bits set after the prefix length",
    );
    let mut c = base();
    c.tenants[1]
        .identity
        .prefixes
        .push(IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16));
    check(
        c,
        "tenants[1].identity.prefixes[2]: duplicate (also given at index 0)",
    );
    let mut c = base();
    c.tenants[0].identity.sni.push(s("a.*.example"));
    check(c, "tenants[0].identity.sni[2]: invalid name");
    let mut c = base();
    c.tenants[0].identity.sni.push(s("*"));
    check(c, "tenants[0].identity.sni[2]: invalid name");
    let mut c = base();
    c.tenants[0].models.push(s("gpt-9"));
    check(c, "tenants[0].models[1]: not listed in models");
    let mut c = base();
    c.tenants[0].default_model = Some(s("mixtral-8x7b"));
    check(c, "tenants[0].default_model: not among the tenant's models");
    let mut c = base();
    c.tenants[0].pools.push(2);
    check(c, "tenants[0].pools[1]: not below pools");
    let mut c = base();
    c.tenants[0].claims = vec![s("globex-batch")];
    check(c, "tenants[1].claims[1]: duplicate (also given at index 0)");
    let mut c = base();
    c.tenants[1].identity.ports = vec![1];
    check(
        c,
        "tenants[1].identity.ports[0]: duplicate (also given at index 0)",
    );
    let mut c = base();
    c.tenants[1].name = s("acme");
    check(c, "tenants[1].name: duplicate (also given at index 0)");
    let mut c = base();
    c.tenants[0].max_in_flight = 0;
    check(c, "tenants[0].max_in_flight: out of range");
    let mut c = base();
    c.tenants[0].tls.min_version = 0x0305;
    check(c, "tenants[0].tls.min_version: out of range");
    let mut c = base();
    c.tenants[0].tls.alpn = vec![s("")];
    check(c, "tenants[0].tls.alpn[0]: empty");
    let mut c = base();
    c.models.push(s("llama-3-70b"));
    check(c, "models[2]: duplicate (also given at index 0)");
    let mut c = base();
    c.precedence = vec![Attribute::Vni, Attribute::Vni];
    check(c, "precedence[1]: duplicate (also given at index 0)");
    let mut c = base();
    c.pools = 65;
    check(c, "pools: out of range");
    check(PolicyConfig::default(), "tenants: empty");
}

fn http1(model: &str, claim: &str) -> RequestInfo {
    RequestInfo {
        kind: RequestKind::Http1,
        model: FixedStr::new(model.as_bytes()),
        tenant_claim: FixedStr::new(claim.as_bytes()),
        ..RequestInfo::default()
    }
}

#[test]
fn admission_checks_claims_models_and_tls() {
    let t = build(&base());
    let acme = TenantId(0);
    let globex = TenantId(1);
    let ok = t.admit(acme, &http1("llama-3-70b", "acme")).unwrap();
    assert_eq!(ok.model, Some(ModelId(0)));
    assert_eq!(ok.hint, TlsHint::Plaintext);
    assert!(ok.pools.contains(0) && !ok.pools.contains(1));
    // No claim is fine; the default model fills in.
    assert_eq!(
        t.admit(acme, &http1("", "")).unwrap().model,
        Some(ModelId(0))
    );
    assert_eq!(t.admit(globex, &http1("", "")), Err(DropReason::NoModel));
    // Claims.
    assert_eq!(
        t.admit(acme, &http1("llama-3-70b", "globex")),
        Err(DropReason::SpoofedTenant)
    );
    assert_eq!(
        t.admit(acme, &http1("llama-3-70b", "nobody")),
        Err(DropReason::SpoofedTenant)
    );
    assert!(t
        .admit(globex, &http1("mixtral-8x7b", "globex-batch"))
        .is_ok());
    // Models.
    assert_eq!(
        t.admit(acme, &http1("mixtral-8x7b", "")),
        Err(DropReason::ModelNotAllowed)
    );
    assert_eq!(
        t.admit(acme, &http1("gpt-9", "")),
        Err(DropReason::UnknownModel)
    );
    // TLS required refuses plaintext.
    let mut c = base();
    c.tenants[0].tls.require_tls = true;
    let t2 = build(&c);
    assert_eq!(
        t2.admit(acme, &http1("llama-3-70b", "")),
        Err(DropReason::TlsRequired)
    );
    assert_eq!(
        t.admit(TenantId(9), &http1("", "")),
        Err(DropReason::UnknownTenant)
    );
}

#[test]
fn policer_bank_divides_rates_and_refuses_unknown_tenants() {
    let mut c = base();
    c.tenants[0].rate = RateLimit {
        packets: Some(Rate::new(1000, 100).unwrap()),
        bytes: None,
    };
    let t = build(&c);
    let mut bank = PolicerBank::new(&t, 2, 0);
    let admitted = (0..200)
        .filter(|_| bank.police(TenantId(0), 64, 0) != Color::Red)
        .count();
    assert_eq!(
        admitted, 50,
        "half of the burst of 100 on each of two cores"
    );
    assert_eq!(
        bank.police(TenantId(1), 64, 0),
        Color::Green,
        "globex is unlimited"
    );
    assert_eq!(bank.police(TenantId(7), 64, 0), Color::Red);
}

#[test]
fn policer_bank_polices_a_byte_only_limit() {
    let mut c = base();
    c.tenants[0].rate = RateLimit {
        packets: None,
        bytes: Some(
            TrTcmConfig::new(
                Rate::new(1000, 1000).unwrap(),
                Rate::new(2000, 2000).unwrap(),
            )
            .unwrap(),
        ),
    };
    let t = build(&c);
    let mut bank = PolicerBank::new(&t, 1, 0);
    let colours: Vec<Color> = (0..4).map(|_| bank.police(TenantId(0), 600, 0)).collect();
    assert_eq!(
        colours,
        [Color::Green, Color::Yellow, Color::Yellow, Color::Red],
        "RFC 2698 colours with no packet limit"
    );
    // Unlimited tenants are never policed, however many packets arrive at one instant.
    assert!((0..100_000).all(|_| bank.police(TenantId(1), 1500, 0) == Color::Green));
}
