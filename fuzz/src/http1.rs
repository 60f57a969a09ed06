//! The HTTP/1.1 request-head parser against `httparse`: on every input, where infersteer takes
//! a head, httparse parses the same head to the same method, path, minor version, head length
//! and number of header fields; where httparse refuses a complete head, infersteer refuses it
//! too.
//!
//! Decisions: infersteer reads a field name up to its colon and holds it to visible ASCII only,
//! not to the token grammar (a name with a separator such as `[` or `(` can never equal a
//! name it captures, and the origin server judges it), where httparse refuses it
//! (`HeaderName`): such heads are not compared further.
//!
//! Stricter where a gateway must be (see `l7::http1`): a head httparse
//! takes may still be refused by infersteer (duplicate Host, claim or model headers,
//! Content-Length with Transfer-Encoding, obsolete line folding, a bare LF, a header name
//! httparse allows and RFC 9110 does not): those are refusals, never a different reading.

use infersteer::l7::http1::{parse_request, HeaderNames, Http1Error};

/// One input.
pub fn run(data: &[u8]) {
    let names = HeaderNames::default();
    let ours = parse_request(data, &names, 8192);
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    let theirs = req.parse(data);
    match (ours, theirs) {
        (Ok(r), Ok(httparse::Status::Complete(len))) => {
            assert_eq!(Some(r.method), req.method.map(str::as_bytes), "method");
            assert_eq!(Some(r.path), req.path.map(str::as_bytes), "path");
            assert_eq!(Some(r.minor_version), req.version, "version");
            assert_eq!(r.head_len, len, "head length");
            assert_eq!(usize::from(r.headers), req.headers.len(), "header count");
        }
        (Ok(r), other) => {
            // httparse's header array is 128 long: more fields are its own limit.
            if r.headers > 128
                || matches!(
                    other,
                    Err(httparse::Error::TooManyHeaders | httparse::Error::HeaderName)
                )
            {
                return;
            }
            panic!("infersteer takes a head httparse reads as {other:?}: {r:?}");
        }
        (Err(Http1Error::Incomplete | Http1Error::TooLong), _) => {}
        (Err(_), _) => {}
    }
}
