//! Every TLS policy outcome, each decided on a real ClientHello (or a real plaintext request)
//! from `tests/fixtures/l7/`, classified by the library's own classifier.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a broken setup may panic in tests

use infersteer::l7::{Classifier, ClassifyConfig, RequestInfo};
use infersteer::policy::{
    PolicyConfig, PolicyTable, TenantConfig, TenantId, Termination, TlsPolicy,
};
use infersteer::verdict::{DropReason, TlsHint};

fn classify(file: &str) -> RequestInfo {
    let path = format!("{}/tests/fixtures/l7/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let mut c = Box::new(Classifier::new(ClassifyConfig::default()));
    c.classify(&bytes).unwrap()
}

fn outcome(tls: TlsPolicy, req: &RequestInfo) -> Result<TlsHint, DropReason> {
    let mut t = TenantConfig::new("tenant-a");
    t.models = vec!["*".into()];
    t.default_model = Some("resnet50".into());
    t.tls = tls;
    let table = PolicyTable::build(&PolicyConfig {
        tenants: vec![t],
        models: vec!["resnet50".into(), "mistral-7b".into()],
        pools: 1,
        precedence: Vec::new(),
        ..PolicyConfig::default()
    })
    .unwrap();
    table.admit(TenantId(0), req).map(|a| a.hint)
}

#[test]
fn every_tls_policy_outcome_on_real_client_hellos() {
    let curl = classify("curl_tls13.bin"); // TLS 1.3, SNI, ALPN h2,http/1.1
    let openssl12 = classify("openssl_tls12_only.bin"); // TLS 1.2 only, ALPN http/1.1
    let no_sni = classify("openssl_no_sni.bin"); // openssl s_client -noservername
    let chromium = classify("chromium.bin"); // ECH (GREASE) present
    let gnutls = classify("gnutls.bin"); // ALPN h2 only
    let plain = classify("http1_openai_model_header.bin");
    assert!(no_sni.sni.is_empty() && !curl.sni.is_empty());
    assert!(chromium.ech && !curl.ech);

    let p = TlsPolicy::default;
    let with = |f: &dyn Fn(&mut TlsPolicy)| {
        let mut t = p();
        f(&mut t);
        t
    };
    // Where TLS ends.
    assert_eq!(outcome(p(), &curl), Ok(TlsHint::TerminateDpu));
    assert_eq!(
        outcome(with(&|t| t.terminate = Termination::Host), &gnutls),
        Ok(TlsHint::TerminateHost)
    );
    assert_eq!(
        outcome(with(&|t| t.terminate = Termination::Passthrough), &chromium),
        Ok(TlsHint::PassThrough)
    );
    // Plaintext: allowed, or refused when TLS is required.
    assert_eq!(outcome(p(), &plain), Ok(TlsHint::Plaintext));
    assert_eq!(
        outcome(with(&|t| t.require_tls = true), &plain),
        Err(DropReason::TlsRequired)
    );
    assert_eq!(
        outcome(with(&|t| t.require_tls = true), &curl),
        Ok(TlsHint::TerminateDpu)
    );
    // Minimum version: a TLS 1.2-only hello against a TLS 1.3 minimum.
    assert_eq!(
        outcome(with(&|t| t.min_version = 0x0304), &openssl12),
        Err(DropReason::TlsVersion)
    );
    assert_eq!(
        outcome(with(&|t| t.min_version = 0x0304), &curl),
        Ok(TlsHint::TerminateDpu)
    );
    assert_eq!(
        outcome(with(&|t| t.min_version = 0x0303), &openssl12),
        Ok(TlsHint::TerminateDpu)
    );
    // SNI required.
    assert_eq!(
        outcome(with(&|t| t.require_sni = true), &no_sni),
        Err(DropReason::SniMissing)
    );
    assert_eq!(
        outcome(with(&|t| t.require_sni = true), &gnutls),
        Ok(TlsHint::TerminateDpu)
    );
    // ALPN.
    let h2_only = |t: &mut TlsPolicy| t.alpn = vec!["h2".into()];
    assert_eq!(
        outcome(with(&h2_only), &openssl12),
        Err(DropReason::AlpnNotAllowed)
    );
    assert_eq!(outcome(with(&h2_only), &gnutls), Ok(TlsHint::TerminateDpu));
    assert_eq!(
        outcome(with(&h2_only), &no_sni),
        Err(DropReason::AlpnNotAllowed),
        "no ALPN offered"
    );
    // ECH.
    assert_eq!(
        outcome(with(&|t| t.allow_ech = false), &chromium),
        Err(DropReason::EchNotAllowed)
    );
    assert_eq!(
        outcome(with(&|t| t.allow_ech = false), &curl),
        Ok(TlsHint::TerminateDpu)
    );
}
