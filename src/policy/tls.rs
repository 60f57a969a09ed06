//! Per-tenant TLS policy: whether TLS is required, the lowest version, SNI, ALPN and ECH rules,
//! and where a connection is terminated. Evaluating it on a flow's [`RequestInfo`] gives a
//! [`TlsHint`] for the verdict or the [`DropReason`] that refuses the flow.
#![forbid(unsafe_code)]

use crate::l7::{RequestInfo, RequestKind};
use crate::verdict::{DropReason, TlsHint};
use alloc::string::String;
use alloc::vec::Vec;

/// Where a tenant's TLS connections end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Termination {
    /// On the DPU's Arm cores.
    #[default]
    Dpu,
    /// On the host.
    Host,
    /// Nowhere on this path: the encrypted flow goes to the GPU node (confidential inference).
    Passthrough,
}

/// A tenant's TLS policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPolicy {
    /// Refuse plaintext requests (HTTP/1.1, h2c, gRPC without TLS).
    pub require_tls: bool,
    /// Lowest TLS version accepted, as on the wire (0x0303 = TLS 1.2, 0x0304 = TLS 1.3): the
    /// highest version the client offers must be at least this.
    pub min_version: u16,
    /// Refuse a ClientHello without SNI.
    pub require_sni: bool,
    /// ALPN protocols accepted; empty accepts any (and none). When not empty, the client must
    /// offer at least one of them.
    pub alpn: Vec<String>,
    /// Accept a ClientHello with encrypted_client_hello.
    pub allow_ech: bool,
    /// Where TLS connections end.
    pub terminate: Termination,
}

impl Default for TlsPolicy {
    /// TLS 1.2 or later, plaintext also allowed, any ALPN, ECH allowed, terminated on the DPU.
    fn default() -> Self {
        Self {
            require_tls: false,
            min_version: 0x0303,
            require_sni: false,
            alpn: Vec::new(),
            allow_ech: true,
            terminate: Termination::Dpu,
        }
    }
}

/// The highest real TLS version in a list (GREASE is already left out by the classifier; SSL
/// 3.0 and TLS 1.0–1.3 compare as their wire values).
fn highest_version(versions: &[u16]) -> u16 {
    versions.iter().copied().max().unwrap_or(0)
}

impl TlsPolicy {
    /// The hint for a flow whose first bytes classified as `req`.
    ///
    /// # Errors
    ///
    /// The reason the policy refuses the flow: [`DropReason::TlsRequired`],
    /// [`DropReason::TlsVersion`], [`DropReason::SniMissing`], [`DropReason::AlpnNotAllowed`]
    /// or [`DropReason::EchNotAllowed`].
    pub fn evaluate(&self, req: &RequestInfo) -> Result<TlsHint, DropReason> {
        match req.kind {
            RequestKind::Tls => {
                if highest_version(req.versions()) < self.min_version {
                    return Err(DropReason::TlsVersion);
                }
                if self.require_sni && req.sni.is_empty() {
                    return Err(DropReason::SniMissing);
                }
                if !self.alpn.is_empty() {
                    let offered = req.alpn();
                    let ok = offered
                        .iter()
                        .any(|o| self.alpn.iter().any(|a| a.as_bytes() == o.as_bytes()));
                    if !ok {
                        return Err(DropReason::AlpnNotAllowed);
                    }
                }
                if req.ech && !self.allow_ech {
                    return Err(DropReason::EchNotAllowed);
                }
                Ok(match self.terminate {
                    Termination::Dpu => TlsHint::TerminateDpu,
                    Termination::Host => TlsHint::TerminateHost,
                    Termination::Passthrough => TlsHint::PassThrough,
                })
            }
            RequestKind::Http1 | RequestKind::H2 | RequestKind::Grpc | RequestKind::Unknown => {
                if self.require_tls {
                    Err(DropReason::TlsRequired)
                } else {
                    Ok(TlsHint::Plaintext)
                }
            }
        }
    }
}
