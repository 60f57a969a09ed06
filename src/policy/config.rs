//! The declarative tenant configuration and its validation errors.
//!
//! A [`PolicyConfig`] is plain data (strings, lists), built by the embedding gateway at setup;
//! [`PolicyTable::build`](super::PolicyTable::build) validates it and turns it into lookup
//! tables. Every problem is a [`ConfigError`] that names the offending field, e.g.
//! `tenants[2].identity.vnis[0]: out of range`.
#![forbid(unsafe_code)]

use super::police::RateLimit;
use super::tls::TlsPolicy;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;

/// A trusted attribute that can name a tenant, in the order [`PolicyConfig::precedence`] tries
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// The ingress port or VF the frame arrived on.
    Port,
    /// The outermost VLAN id of the outer frame (the S-tag of a QinQ frame).
    Vlan,
    /// The VXLAN or GENEVE VNI.
    Vni,
    /// The innermost source address, longest prefix first.
    SourcePrefix,
    /// The TLS server name: exact, else the longest wildcard suffix.
    Sni,
}

impl Attribute {
    /// The default precedence: the most physical attribute first.
    pub const DEFAULT_PRECEDENCE: [Self; 5] = [
        Self::Port,
        Self::Vni,
        Self::Vlan,
        Self::SourcePrefix,
        Self::Sni,
    ];
}

/// An IP prefix (`addr/len`); bits after `len` must be zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    /// The prefix address.
    pub addr: IpAddr,
    /// The prefix length in bits.
    pub len: u8,
}

impl IpPrefix {
    /// `addr/len`.
    pub const fn new(addr: IpAddr, len: u8) -> Self {
        Self { addr, len }
    }
}

/// The trusted attributes bound to one tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Ingress ports / VFs.
    pub ports: Vec<u16>,
    /// VLAN ids (1–4094).
    pub vlans: Vec<u16>,
    /// VXLAN/GENEVE VNIs (24 bits).
    pub vnis: Vec<u32>,
    /// Source prefixes, IPv4 and IPv6.
    pub prefixes: Vec<IpPrefix>,
    /// Server names: `api.tenant.example` (exact) or `*.tenant.example` (any name ending in
    /// `.tenant.example`, at any depth; the longest matching suffix wins, an exact name beats
    /// every wildcard). Compared ASCII case-insensitively.
    pub sni: Vec<String>,
}

/// A tenant's scheduling priority class, carried on its GPU descriptors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Background and batch work.
    Low = 0,
    /// Ordinary interactive traffic.
    #[default]
    Normal = 1,
    /// Latency-critical traffic.
    High = 2,
}

/// One tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantConfig {
    /// Unique name.
    pub name: String,
    /// Identities the tenant's requests may claim (`x-gateway-inference-fairness-id`, gRPC
    /// metadata). Empty means the tenant's name. A claim that names another tenant, or no
    /// tenant, is `spoofed_tenant`.
    pub claims: Vec<String>,
    /// Trusted attributes that name this tenant.
    pub identity: Identity,
    /// Models the tenant may use, by name; `"*"` allows every model.
    pub models: Vec<String>,
    /// Model used when a request names none (and for TLS passthrough flows).
    pub default_model: Option<String>,
    /// GPU pools the tenant may use (pool numbers below [`PolicyConfig::pools`]).
    pub pools: Vec<u8>,
    /// Priority class.
    pub priority: Priority,
    /// Most descriptors in flight across all GPU queues (at least 1).
    pub max_in_flight: u32,
    /// Packet and byte rate limits.
    pub rate: RateLimit,
    /// TLS policy.
    pub tls: TlsPolicy,
}

impl TenantConfig {
    /// A tenant named `name` with no identity, no models, no pools, normal priority, 1024
    /// descriptors in flight, no rate limit and the default TLS policy.
    pub fn new(name: &str) -> Self {
        Self {
            name: String::from(name),
            claims: Vec::new(),
            identity: Identity::default(),
            models: Vec::new(),
            default_model: None,
            pools: Vec::new(),
            priority: Priority::Normal,
            max_in_flight: 1024,
            rate: RateLimit::UNLIMITED,
            tls: TlsPolicy::default(),
        }
    }
}

/// The whole tenant configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Tenants; a tenant's id is its index.
    pub tenants: Vec<TenantConfig>,
    /// Model names; a model's id is its index.
    pub models: Vec<String>,
    /// Number of GPU pools (at most 64); pools are numbered from 0.
    pub pools: u8,
    /// Order in which trusted attributes are tried; empty means
    /// [`Attribute::DEFAULT_PRECEDENCE`]. Attributes left out are not used.
    pub precedence: Vec<Attribute>,
    /// Tunnel endpoints (VTEPs) whose VXLAN/GENEVE frames are trusted whatever their VNI: the
    /// inner frame's source address decides the tenant for a frame from one of these outer
    /// source prefixes, or on a VNI that a tenant's identity lists. Any other tunnelled frame
    /// is judged by its outer identity (port, outer VLAN, outer source address) alone.
    pub tunnel_endpoints: Vec<IpPrefix>,
    /// The policer for frames no trusted attribute attributes to a tenant (handshakes, first
    /// flights that may carry a tenant's SNI, everything from unknown senders): they share
    /// this rate per pipeline, so unknown senders cannot take the classifier away from the
    /// tenants. [`RateLimit::UNLIMITED`] by default (`Default`).
    pub unattributed_rate: RateLimit,
}

/// The field of a tenant a [`ConfigError`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantField {
    /// `name`.
    Name,
    /// `claims`.
    Claims,
    /// `identity.ports`.
    Ports,
    /// `identity.vlans`.
    Vlans,
    /// `identity.vnis`.
    Vnis,
    /// `identity.prefixes`.
    Prefixes,
    /// `identity.sni`.
    Sni,
    /// `models`.
    Models,
    /// `default_model`.
    DefaultModel,
    /// `pools`.
    Pools,
    /// `max_in_flight`.
    MaxInFlight,
    /// `tls.min_version`.
    TlsMinVersion,
    /// `tls.alpn`.
    TlsAlpn,
}

impl TenantField {
    fn path(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Claims => "claims",
            Self::Ports => "identity.ports",
            Self::Vlans => "identity.vlans",
            Self::Vnis => "identity.vnis",
            Self::Prefixes => "identity.prefixes",
            Self::Sni => "identity.sni",
            Self::Models => "models",
            Self::DefaultModel => "default_model",
            Self::Pools => "pools",
            Self::MaxInFlight => "max_in_flight",
            Self::TlsMinVersion => "tls.min_version",
            Self::TlsAlpn => "tls.alpn",
        }
    }
}

/// Where in the configuration a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldPath {
    /// `tenants` as a whole.
    Tenants,
    /// A field of one tenant, and the item of a list field.
    Tenant {
        /// Index in `tenants`.
        tenant: usize,
        /// The field.
        field: TenantField,
        /// Index in the field's list, for list fields.
        item: Option<usize>,
    },
    /// `models[index]`.
    Model {
        /// Index in `models`.
        index: usize,
    },
    /// `pools`.
    Pools,
    /// `precedence[index]`.
    Precedence {
        /// Index in `precedence`.
        index: usize,
    },
    /// `tunnel_endpoints[index]`.
    TunnelEndpoint {
        /// Index in `tunnel_endpoints`.
        index: usize,
    },
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tenants => f.write_str("tenants"),
            Self::Tenant {
                tenant,
                field,
                item,
            } => {
                write!(f, "tenants[{tenant}].{}", field.path())?;
                if let Some(i) = item {
                    write!(f, "[{i}]")?;
                }
                Ok(())
            }
            Self::Model { index } => write!(f, "models[{index}]"),
            Self::Pools => f.write_str("pools"),
            Self::Precedence { index } => write!(f, "precedence[{index}]"),
            Self::TunnelEndpoint { index } => write!(f, "tunnel_endpoints[{index}]"),
        }
    }
}

/// What is wrong with a field.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Problem {
    /// Empty where a value is needed.
    Empty,
    /// Longer than the data plane can compare (the limit in bytes).
    TooLong(usize),
    /// Already used by `tenants[tenant]` (or by the same tenant).
    DuplicateOf {
        /// The tenant that has it (or the model index, for model names).
        other: usize,
    },
    /// Outside the valid range.
    OutOfRange,
    /// Bits set after the prefix length.
    HostBitsSet,
    /// Not a valid name (a `*` anywhere but a leading `*.`).
    InvalidName,
    /// Names a model that `models` does not list.
    UnknownModel,
    /// Names a pool at or above `pools`.
    UnknownPool,
    /// The default model is not among the tenant's allowed models.
    DefaultModelNotAllowed,
    /// More items than supported.
    TooMany,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty"),
            Self::TooLong(max) => write!(f, "longer than {max} bytes"),
            Self::DuplicateOf { other } => write!(f, "duplicate (also given at index {other})"),
            Self::OutOfRange => f.write_str("out of range"),
            Self::HostBitsSet => f.write_str("bits set after the prefix length"),
            Self::InvalidName => f.write_str("invalid name"),
            Self::UnknownModel => f.write_str("not listed in models"),
            Self::UnknownPool => f.write_str("not below pools"),
            Self::DefaultModelNotAllowed => f.write_str("not among the tenant's models"),
            Self::TooMany => f.write_str("too many"),
        }
    }
}

/// A configuration problem: the field and what is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfigError {
    /// The offending field.
    pub path: FieldPath,
    /// What is wrong.
    pub problem: Problem,
}

impl ConfigError {
    pub(crate) const fn tenant(
        tenant: usize,
        field: TenantField,
        item: Option<usize>,
        problem: Problem,
    ) -> Self {
        Self {
            path: FieldPath::Tenant {
                tenant,
                field,
                item,
            },
            problem,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl core::error::Error for ConfigError {}
