//! What the data plane decides for a frame, and why it drops one: the vocabulary shared by the
//! policy, steering and pipeline layers and by the counters.
//!
//! A leaf module: plain `Copy` enums, no behaviour beyond naming.
#![forbid(unsafe_code)]

use core::fmt;

/// Where a TLS connection is terminated, or why its hello is refused: the hint the policy
/// layer puts on a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsHint {
    /// The flow is not TLS (plaintext HTTP/1.1, HTTP/2 or gRPC, allowed by the tenant's policy).
    Plaintext,
    /// Terminate TLS on the DPU's Arm cores.
    TerminateDpu,
    /// Hand the connection to the host, which terminates TLS.
    TerminateHost,
    /// Pass the encrypted flow through to the GPU node (confidential inference).
    PassThrough,
}

impl TlsHint {
    /// Lower-case name, as used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::TerminateDpu => "terminate_dpu",
            Self::TerminateHost => "terminate_host",
            Self::PassThrough => "passthrough",
        }
    }
}

/// Why a frame was dropped. Every drop is counted under exactly one reason.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DropReason {
    /// The frame did not parse (truncated or malformed headers).
    Malformed = 0,
    /// Not IP/TCP/UDP traffic that the data plane serves (no 5-tuple).
    NotIp,
    /// No trusted attribute (port, VLAN, VNI, source prefix, SNI) names a tenant.
    UnknownTenant,
    /// The request claims a tenant identity other than the trusted one.
    SpoofedTenant,
    /// The request names a model the configuration does not know.
    UnknownModel,
    /// The tenant may not use the model the request names.
    ModelNotAllowed,
    /// The request names no model and the tenant has no default model.
    NoModel,
    /// The tenant is over its packet or byte rate.
    RateLimited,
    /// The tenant requires TLS and the flow is plaintext.
    TlsRequired,
    /// The tenant does not accept plaintext or TLS here (TLS offered where only plaintext is
    /// served, e.g. no termination point configured).
    TlsNotAllowed,
    /// The ClientHello offers no TLS version at or above the tenant's minimum.
    TlsVersion,
    /// The tenant requires SNI and the ClientHello has none.
    SniMissing,
    /// None of the ALPN protocols offered is allowed.
    AlpnNotAllowed,
    /// The ClientHello carries encrypted_client_hello and the tenant does not allow it.
    EchNotAllowed,
    /// The first bytes of the flow are not a request the classifier accepts.
    BadRequest,
    /// The request did not fit the reassembly buffer, segments came out of order, or the
    /// reassembly pool was exhausted.
    Reassembly,
    /// The flow table is full and no idle entry could be evicted.
    FlowTableFull,
    /// No GPU pool serves the model within the tenant's allowed pools.
    NoPool,
    /// Every eligible GPU queue was full.
    QueueFull,
    /// The tenant is at its cap of descriptors in flight.
    TenantQuota,
    /// The ClientHello's SNI names a tenant other than the one the trusted attributes (port,
    /// VLAN, VNI, source prefix) resolved.
    SpoofedSni,
    /// The tenant (or the unattributed share) already holds its cap of flow-table entries.
    FlowCap,
    /// The tenant (or the unattributed share) already holds its cap of reassembly slots.
    ReassemblyCap,
    /// The request could be read two ways by the gateway and the backend (duplicate Host,
    /// claim or model headers, Content-Length with Transfer-Encoding, models that disagree,
    /// duplicate JSON `model` or gRPC `model_name`): refused rather than guessed.
    AmbiguousRequest,
    /// The TCP checksum does not hold (the backend would discard the segment): it is not
    /// classified or followed.
    BadChecksum,
}

impl DropReason {
    /// Number of reasons (the length of a per-reason counter array).
    pub const COUNT: usize = 25;

    /// Every reason, in counter order.
    pub const ALL: [Self; Self::COUNT] = [
        Self::Malformed,
        Self::NotIp,
        Self::UnknownTenant,
        Self::SpoofedTenant,
        Self::UnknownModel,
        Self::ModelNotAllowed,
        Self::NoModel,
        Self::RateLimited,
        Self::TlsRequired,
        Self::TlsNotAllowed,
        Self::TlsVersion,
        Self::SniMissing,
        Self::AlpnNotAllowed,
        Self::EchNotAllowed,
        Self::BadRequest,
        Self::Reassembly,
        Self::FlowTableFull,
        Self::NoPool,
        Self::QueueFull,
        Self::TenantQuota,
        Self::SpoofedSni,
        Self::FlowCap,
        Self::ReassemblyCap,
        Self::AmbiguousRequest,
        Self::BadChecksum,
    ];

    /// Index of the reason in a per-reason counter array.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// snake_case name, as used in reports and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::NotIp => "not_ip",
            Self::UnknownTenant => "unknown_tenant",
            Self::SpoofedTenant => "spoofed_tenant",
            Self::UnknownModel => "unknown_model",
            Self::ModelNotAllowed => "model_not_allowed",
            Self::NoModel => "no_model",
            Self::RateLimited => "rate_limited",
            Self::TlsRequired => "tls_required",
            Self::TlsNotAllowed => "tls_not_allowed",
            Self::TlsVersion => "tls_version",
            Self::SniMissing => "sni_missing",
            Self::AlpnNotAllowed => "alpn_not_allowed",
            Self::EchNotAllowed => "ech_not_allowed",
            Self::BadRequest => "bad_request",
            Self::Reassembly => "reassembly",
            Self::FlowTableFull => "flow_table_full",
            Self::NoPool => "no_pool",
            Self::QueueFull => "queue_full",
            Self::TenantQuota => "tenant_quota",
            Self::SpoofedSni => "spoofed_sni",
            Self::FlowCap => "flow_cap",
            Self::ReassemblyCap => "reassembly_cap",
            Self::AmbiguousRequest => "ambiguous_request",
            Self::BadChecksum => "bad_checksum",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::DropReason;

    #[test]
    fn all_reasons_are_listed_in_index_order_with_distinct_names() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        for (i, a) in DropReason::ALL.iter().enumerate() {
            for b in DropReason::ALL.iter().skip(i + 1) {
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
