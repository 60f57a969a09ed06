//! Classifies the first bytes a client sent on one connection and prints one JSON object.
//!
//! `cargo run --example classify -- FILE` where FILE holds the raw bytes (a ClientHello, an
//! HTTP/1.1 request, an HTTP/2 or gRPC first flight), as in `tests/fixtures/l7/`. Keys with no
//! value are `null`. Malformed or incomplete input prints `{"error": "..."}` and exits 1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example

use std::fmt::Write as _;
use std::process::ExitCode;

use infersteer::l7::{tls, Classifier, ClassifyConfig, FixedStr, RequestKind};

/// A JSON string literal of `bytes` (invalid UTF-8 replaced with U+FFFD).
fn json_str(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt<const N: usize>(s: &FixedStr<N>) -> String {
    if s.is_empty() {
        "null".into()
    } else {
        json_str(s.as_bytes())
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        println!("{{\"error\": \"usage: classify FILE\"}}");
        return ExitCode::FAILURE;
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            println!(
                "{{\"error\": {}}}",
                json_str(format!("cannot read {path}: {e}").as_bytes())
            );
            return ExitCode::FAILURE;
        }
    };
    let mut classifier = Box::new(Classifier::new(ClassifyConfig::default()));
    let info = match classifier.classify(&bytes) {
        Ok(info) => info,
        Err(e) => {
            println!("{{\"error\": {}}}", json_str(e.to_string().as_bytes()));
            return ExitCode::FAILURE;
        }
    };
    let kind = match info.kind {
        RequestKind::Tls => "tls",
        RequestKind::Http1 => "http1",
        RequestKind::H2 => "h2",
        RequestKind::Grpc => "grpc",
        RequestKind::Unknown => "unknown",
    };
    let tls = info.kind == RequestKind::Tls;
    let list = |items: Vec<String>| {
        if tls {
            format!("[{}]", items.join(", "))
        } else {
            "null".into()
        }
    };
    let alpn = list(info.alpn().iter().map(|a| json_str(a.as_bytes())).collect());
    let versions = list(
        info.versions()
            .iter()
            .map(|&v| {
                tls::version_name(v)
                    .map_or_else(|| format!("\"0x{v:04x}\""), |n| format!("\"{n}\""))
            })
            .collect(),
    );
    let ech = if tls {
        info.ech.to_string()
    } else {
        "null".into()
    };
    println!(
        "{{\"kind\": \"{kind}\", \"sni\": {}, \"alpn\": {alpn}, \"ech\": {ech}, \"versions\": {versions}, \"method\": {}, \"path\": {}, \"authority\": {}, \"model\": {}, \"session\": {}, \"tenant_claim\": {}, \"priority\": {}}}",
        opt(&info.sni),
        opt(&info.method),
        opt(&info.path),
        opt(&info.authority),
        opt(&info.model),
        opt(&info.session),
        opt(&info.tenant_claim),
        opt(&info.priority),
    );
    ExitCode::SUCCESS
}
