//! HTTP/2 and gRPC classification. The first byte picks what the rest is:
//!
//! - `0`: a connection's first bytes for the whole classifier (`Classifier::classify`, which
//!   tries TLS, HTTP/1.1 and HTTP/2) and for `classify_h2` alone: no panic, and the HTTP/2
//!   reading agrees with what the classifier reports for an HTTP/2 request.
//! - `1`: the first DATA bytes of a gRPC call: `grpc_model_name` against `prost` decoding the
//!   same complete message as a KServe v2 `ModelInferRequest` (the oracle for `model_name`).
//!
//! Decisions: infersteer refuses a second `model_name` (protobuf keeps the last, the check
//! would have seen the first: `Ambiguous`) where prost takes it, and refuses the deprecated
//! group wire types (3 and 4), which prost skips; it reads field 1's bytes without checking
//! they are UTF-8 (the backend's decoder does). Such inputs are not compared.

use infersteer::l7::h2::{classify_h2, grpc_model_name, H2Error, H2State};
use infersteer::l7::http1::HeaderNames;
use infersteer::l7::{Classifier, ClassifyConfig, RequestInfo};
use prost::Message;

/// The fields of KServe's `ModelInferRequest` the oracle needs (`model_name` as bytes, so that
/// UTF-8 is not part of the comparison); prost skips the others.
#[derive(Clone, PartialEq, Message)]
struct ModelInferRequest {
    #[prost(bytes = "vec", tag = "1")]
    model_name: Vec<u8>,
    #[prost(string, tag = "2")]
    model_version: String,
}

/// One input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => classify(rest),
        1 => grpc(rest),
        _ => {}
    }
}

fn classify(bytes: &[u8]) {
    let mut classifier = Box::new(Classifier::new(ClassifyConfig::default()));
    let _ = classifier.classify(bytes);
    let mut state = Box::new(H2State::new());
    let mut info = RequestInfo::default();
    let _ = classify_h2(
        bytes,
        &mut state,
        &HeaderNames::default(),
        1024,
        64,
        &mut info,
    );
}

fn grpc(data: &[u8]) {
    let ours = grpc_model_name(data);
    let Some((&[flag, l0, l1, l2, l3], msg)) = data.split_first_chunk::<5>() else {
        assert_eq!(ours, Err(H2Error::Incomplete));
        return;
    };
    let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    if flag != 0 || msg.len() < len {
        return;
    }
    let msg = &msg[..len];
    let groups = has_groups(msg);
    match (ModelInferRequest::decode(msg), ours) {
        (Ok(m), Ok(Some(name))) => assert_eq!(name, &m.model_name[..], "model_name"),
        (Ok(m), Ok(None)) => assert!(
            m.model_name.is_empty(),
            "a model_name prost reads: {:?}",
            m.model_name
        ),
        (_, Err(H2Error::Ambiguous(_))) => {}
        (Ok(_), Err(e)) if groups => {
            assert_eq!(e, H2Error::BadGrpcMessage);
        }
        (Ok(m), Err(e)) => panic!("prost reads {m:?} where infersteer refuses: {e:?}"),
        (Err(_), Ok(Some(_))) | (Err(_), Ok(None)) | (Err(_), Err(_)) => {}
    }
}

/// Whether the message's top level uses the group wire types (3, 4) before it ends or breaks.
fn has_groups(mut msg: &[u8]) -> bool {
    fn varint(rest: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, t) = rest.split_first()?;
            *rest = t;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    while !msg.is_empty() {
        let Some(key) = varint(&mut msg) else {
            return false;
        };
        let skip = match key & 7 {
            0 => varint(&mut msg).map(|_| 0),
            1 => Some(8),
            2 => varint(&mut msg).and_then(|n| usize::try_from(n).ok()),
            5 => Some(4),
            _ => return true,
        };
        let Some(n) = skip else { return false };
        let Some(t) = msg.get(n..) else { return false };
        msg = t;
    }
    false
}
