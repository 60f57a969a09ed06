//! Tenant policy: who a frame belongs to, what it may use, how fast it may send, and where its
//! TLS ends.
//!
//! - **Identity from trusted attributes only.** [`PolicyTable::resolve`] looks at the ingress
//!   port, the outer VLAN, the VNI, the innermost source address (longest prefix) and the SNI,
//!   in the configured [`Attribute`] precedence; the first that names a tenant wins. What the
//!   request *claims* (the fairness-id header, gRPC metadata) never routes: [`PolicyTable::admit`]
//!   checks it against the trusted tenant and a mismatch is [`DropReason::SpoofedTenant`].
//! - **Policy per tenant:** allowed models and GPU pools, a priority class, a cap on descriptors
//!   in flight, packet and byte rate limits ([`police`]) and a [`TlsPolicy`] that yields the
//!   verdict's [`TlsHint`].
//! - **Built once, read without locks.** [`PolicyTable::build`] validates a [`PolicyConfig`]
//!   (typed [`ConfigError`] naming the field) and builds immutable tables; lookups allocate
//!   nothing and cannot panic. Policer state is per core ([`PolicerBank`]), fed one timestamp
//!   per burst.
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod config;
mod lpm;
pub mod police;
mod table;
pub mod tls;

pub use config::{
    Attribute, ConfigError, FieldPath, Identity, IpPrefix, PolicyConfig, Priority, Problem,
    TenantConfig, TenantField,
};
pub use police::{Color, Rate, RateLimit, TenantPolicer, TrTcmConfig};
pub use tls::{Termination, TlsPolicy};

use crate::l7::{RequestInfo, RequestKind};
use crate::verdict::{DropReason, TlsHint};
use crate::wire::{FrameSummary, IpFamily, L3Kind};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use lpm::{Lpm, LpmError};
use table::{NameTable, Table};

/// A tenant: its index in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(pub u32);

/// A model: its index in [`PolicyConfig::models`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub u32);

/// A set of GPU pools (pool `n` is bit `n`; at most 64 pools).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PoolSet(pub u64);

impl PoolSet {
    /// Most pools a configuration may have.
    pub const MAX_POOLS: u8 = 64;

    /// Whether pool `pool` is in the set.
    #[inline]
    pub const fn contains(self, pool: u8) -> bool {
        pool < 64 && (self.0 >> pool) & 1 == 1
    }

    /// The set with `pool` added (pools at or above 64 are ignored).
    #[inline]
    pub const fn with(self, pool: u8) -> Self {
        if pool < 64 {
            Self(self.0 | (1 << pool))
        } else {
            self
        }
    }
}

/// Longest claim, SNI name, model name and ALPN name the data plane compares (the sizes of the
/// corresponding [`RequestInfo`] fields).
const MAX_CLAIM: usize = 64;
const MAX_SNI: usize = 128;
const MAX_MODEL: usize = 96;
const MAX_ALPN_NAME: usize = 16;

/// A source address for prefix matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// IPv4, first byte most significant.
    V4(u32),
    /// IPv6 address bytes (network order).
    V6([u8; 16]),
}

impl Source {
    /// The source of an address.
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::V4(u32::from(a)),
            IpAddr::V6(a) => Self::V6(a.octets()),
        }
    }
}

/// The trusted attributes of one frame (what the network, not the client, says about it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Trusted<'a> {
    /// Ingress port or VF.
    pub port: Option<u16>,
    /// Outermost VLAN id of the outer frame.
    pub vlan: Option<u16>,
    /// VXLAN/GENEVE VNI.
    pub vni: Option<u32>,
    /// Innermost source address.
    pub src: Option<Source>,
    /// TLS server name from the flow's ClientHello.
    pub sni: Option<&'a [u8]>,
}

impl<'a> Trusted<'a> {
    /// The attributes of a parsed frame that arrived on `port`.
    #[inline]
    pub fn from_frame(port: u16, summary: &FrameSummary) -> Self {
        let src = summary.tuple.as_ref().map(|t| match t.family {
            IpFamily::V4 => {
                let [a, b, c, d, ..] = t.src;
                Source::V4(u32::from_be_bytes([a, b, c, d]))
            }
            IpFamily::V6 => Source::V6(t.src),
        });
        Self {
            port: Some(port),
            vlan: summary.outer.vlans.outer(),
            vni: summary.tunnel.map(|t| t.vni),
            src,
            sni: None,
        }
    }

    /// The same attributes with the SNI of a classified ClientHello (a truncated name is left
    /// out: it cannot be compared).
    #[inline]
    pub fn with_request(mut self, req: &'a RequestInfo) -> Self {
        if req.kind == RequestKind::Tls && !req.sni.is_empty() && !req.sni.is_truncated() {
            self.sni = Some(req.sni.as_bytes());
        }
        self
    }
}

/// The outer (underlay) source address of a frame.
fn outer_source(bytes: &[u8], summary: &FrameSummary) -> Option<Source> {
    let l3 = summary.outer.l3?;
    let at = usize::from(l3.offset);
    match l3.kind {
        L3Kind::Ipv4 => {
            let a = bytes.get(at + 12..at + 16)?;
            let mut w = [0u8; 4];
            w.copy_from_slice(a);
            Some(Source::V4(u32::from_be_bytes(w)))
        }
        L3Kind::Ipv6 => {
            let a = bytes.get(at + 8..at + 24)?;
            let mut w = [0u8; 16];
            w.copy_from_slice(a);
            Some(Source::V6(w))
        }
    }
}

/// What one tenant may do, as built from its [`TenantConfig`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantPolicy {
    /// The tenant's name.
    pub name: String,
    /// Pools it may use.
    pub pools: PoolSet,
    /// Priority class.
    pub priority: Priority,
    /// Most descriptors in flight.
    pub max_in_flight: u32,
    /// Rate limits.
    pub rate: RateLimit,
    /// TLS policy.
    pub tls: TlsPolicy,
    /// Model for requests that name none.
    pub default_model: Option<ModelId>,
}

/// What [`PolicyTable::admit`] lets a flow do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Admission {
    /// The trusted tenant.
    pub tenant: TenantId,
    /// The model the request is for: named and allowed, or the tenant's default. `None` for a
    /// TLS flow terminated here (the model is known only after termination) and for plaintext
    /// that is not an inference request (handed to the host).
    pub model: Option<ModelId>,
    /// The pools the tenant may use.
    pub pools: PoolSet,
    /// The tenant's priority class.
    pub priority: Priority,
    /// Where the flow's TLS ends.
    pub hint: TlsHint,
}

/// The validated policy tables, immutable after [`PolicyTable::build`].
#[derive(Clone, Debug)]
pub struct PolicyTable {
    precedence: [Attribute; 5],
    precedence_len: usize,
    /// Port → tenant + 1 (0: none).
    ports: Vec<u32>,
    /// VLAN id → tenant + 1 (0: none).
    vlans: Vec<u32>,
    vnis: Table<u32, u32>,
    v4: lpm::Lpm4,
    v6: Lpm<u128>,
    /// Trusted tunnel endpoints (outer source prefixes), when any are configured.
    endpoints: Option<(lpm::Lpm4, Lpm<u128>)>,
    /// The policer of unattributed traffic.
    unattributed_rate: RateLimit,
    sni_exact: NameTable,
    /// Wildcard suffixes, stored with their leading dot (`.tenant.example`).
    sni_suffix: NameTable,
    claims: NameTable,
    models: NameTable,
    model_names: Vec<String>,
    /// Allowed-model bitmaps, `model_words` words per tenant.
    model_bits: Vec<u64>,
    model_words: usize,
    tenants: Vec<TenantPolicy>,
}

fn too_long(len: usize, max: usize) -> Option<Problem> {
    if len == 0 {
        Some(Problem::Empty)
    } else if len > max {
        Some(Problem::TooLong(max))
    } else {
        None
    }
}

impl PolicyTable {
    /// Validates `config` and builds the tables.
    ///
    /// # Errors
    ///
    /// The first problem found, naming its field.
    pub fn build(config: &PolicyConfig) -> Result<Self, ConfigError> {
        use TenantField as F;
        let err = ConfigError::tenant;
        if config.tenants.is_empty() {
            return Err(ConfigError {
                path: FieldPath::Tenants,
                problem: Problem::Empty,
            });
        }
        if config.tenants.len() > u32::MAX as usize - 1 {
            return Err(ConfigError {
                path: FieldPath::Tenants,
                problem: Problem::TooMany,
            });
        }
        if config.pools > PoolSet::MAX_POOLS {
            return Err(ConfigError {
                path: FieldPath::Pools,
                problem: Problem::OutOfRange,
            });
        }

        // Precedence.
        let mut precedence = Attribute::DEFAULT_PRECEDENCE;
        let mut precedence_len = precedence.len();
        if !config.precedence.is_empty() {
            precedence_len = 0;
            for (i, a) in config.precedence.iter().enumerate() {
                if let Some(j) = config.precedence.iter().take(i).position(|b| b == a) {
                    return Err(ConfigError {
                        path: FieldPath::Precedence { index: i },
                        problem: Problem::DuplicateOf { other: j },
                    });
                }
                if let Some(slot) = precedence.get_mut(precedence_len) {
                    *slot = *a;
                    precedence_len += 1;
                }
            }
        }

        // Models.
        let mut models = NameTable::with_capacity(config.models.len(), false);
        for (i, m) in config.models.iter().enumerate() {
            if let Some(p) = too_long(m.len(), MAX_MODEL) {
                return Err(ConfigError {
                    path: FieldPath::Model { index: i },
                    problem: p,
                });
            }
            if m == "*" {
                return Err(ConfigError {
                    path: FieldPath::Model { index: i },
                    problem: Problem::InvalidName,
                });
            }
            models
                .insert(m.as_bytes(), i as u32)
                .map_err(|other| ConfigError {
                    path: FieldPath::Model { index: i },
                    problem: Problem::DuplicateOf {
                        other: other as usize,
                    },
                })?;
        }
        let model_words = config.models.len().div_ceil(64).max(1);

        let n_claims: usize = config.tenants.iter().map(|t| t.claims.len().max(1)).sum();
        let mut claims = NameTable::with_capacity(n_claims, false);
        let mut names = NameTable::with_capacity(config.tenants.len(), false);
        let mut ports: Vec<u32> = Vec::new();
        let mut vlans: Vec<u32> = Vec::new();
        let n_vnis: usize = config.tenants.iter().map(|t| t.identity.vnis.len()).sum();
        let mut vnis = Table::with_capacity(n_vnis);
        let mut v4 = Vec::new();
        let mut v4_at = Vec::new();
        let mut v6 = Vec::new();
        let mut v6_at = Vec::new();
        let n_sni: usize = config.tenants.iter().map(|t| t.identity.sni.len()).sum();
        let mut sni_exact = NameTable::with_capacity(n_sni, true);
        let mut sni_suffix = NameTable::with_capacity(n_sni, true);
        let mut model_bits = alloc::vec![0u64; model_words * config.tenants.len()];
        let mut tenants = Vec::with_capacity(config.tenants.len());

        for (t, tc) in config.tenants.iter().enumerate() {
            let id = t as u32;
            if let Some(p) = too_long(tc.name.len(), 255) {
                return Err(err(t, F::Name, None, p));
            }
            names
                .insert(tc.name.as_bytes(), id)
                .map_err(|o| err(t, F::Name, None, Problem::DuplicateOf { other: o as usize }))?;
            // Claims: the listed ones, or the name.
            let own_name = [tc.name.clone()];
            let tenant_claims: &[String] = if tc.claims.is_empty() {
                &own_name
            } else {
                &tc.claims
            };
            for (i, c) in tenant_claims.iter().enumerate() {
                let field = if tc.claims.is_empty() {
                    F::Name
                } else {
                    F::Claims
                };
                let item = (!tc.claims.is_empty()).then_some(i);
                if let Some(p) = too_long(c.len(), MAX_CLAIM) {
                    return Err(err(t, field, item, p));
                }
                claims
                    .insert(c.as_bytes(), id)
                    .map_err(|o| err(t, field, item, Problem::DuplicateOf { other: o as usize }))?;
            }
            // Ports.
            for (i, &p) in tc.identity.ports.iter().enumerate() {
                let p = usize::from(p);
                if ports.len() <= p {
                    ports.resize(p + 1, 0);
                }
                if let Some(slot) = ports.get_mut(p) {
                    if *slot != 0 {
                        let other = (*slot - 1) as usize;
                        return Err(err(t, F::Ports, Some(i), Problem::DuplicateOf { other }));
                    }
                    *slot = id + 1;
                }
            }
            // VLANs.
            for (i, &v) in tc.identity.vlans.iter().enumerate() {
                if v == 0 || v > 4094 {
                    return Err(err(t, F::Vlans, Some(i), Problem::OutOfRange));
                }
                if vlans.is_empty() {
                    vlans.resize(4096, 0);
                }
                if let Some(slot) = vlans.get_mut(usize::from(v)) {
                    if *slot != 0 {
                        let other = (*slot - 1) as usize;
                        return Err(err(t, F::Vlans, Some(i), Problem::DuplicateOf { other }));
                    }
                    *slot = id + 1;
                }
            }
            // VNIs.
            for (i, &v) in tc.identity.vnis.iter().enumerate() {
                if v > 0x00FF_FFFF {
                    return Err(err(t, F::Vnis, Some(i), Problem::OutOfRange));
                }
                vnis.insert(v, id)
                    .map_err(|table::InsertError::Duplicate(o)| {
                        err(
                            t,
                            F::Vnis,
                            Some(i),
                            Problem::DuplicateOf { other: o as usize },
                        )
                    })?;
            }
            // Prefixes (checked when the LPM tables are built below).
            for (i, p) in tc.identity.prefixes.iter().enumerate() {
                match p.addr {
                    IpAddr::V4(a) => {
                        v4.push((u32::from(a), p.len, id));
                        v4_at.push((t, i));
                    }
                    IpAddr::V6(a) => {
                        v6.push((u128::from(a), p.len, id));
                        v6_at.push((t, i));
                    }
                }
            }
            // SNI names.
            for (i, name) in tc.identity.sni.iter().enumerate() {
                let bytes = name.as_bytes();
                let (table, key) = match bytes.strip_prefix(b"*") {
                    Some(rest) => (&mut sni_suffix, rest),
                    None => (&mut sni_exact, bytes),
                };
                let bad = key.is_empty()
                    || key.contains(&b'*')
                    || (bytes.first() == Some(&b'*')
                        && (key.len() < 2 || key.first() != Some(&b'.')))
                    || key.iter().any(|&b| b <= b' ' || b >= 0x7f);
                if bad {
                    return Err(err(t, F::Sni, Some(i), Problem::InvalidName));
                }
                if bytes.len() > MAX_SNI {
                    return Err(err(t, F::Sni, Some(i), Problem::TooLong(MAX_SNI)));
                }
                table.insert(key, id).map_err(|o| {
                    err(
                        t,
                        F::Sni,
                        Some(i),
                        Problem::DuplicateOf { other: o as usize },
                    )
                })?;
            }
            // Models.
            let words = model_bits
                .get_mut(t * model_words..(t + 1) * model_words)
                .unwrap_or(&mut []);
            for (i, m) in tc.models.iter().enumerate() {
                if m == "*" {
                    for (w, word) in words.iter_mut().enumerate() {
                        let bits_here = config.models.len().saturating_sub(w * 64).min(64);
                        *word = if bits_here == 64 {
                            u64::MAX
                        } else {
                            (1u64 << bits_here) - 1
                        };
                    }
                    continue;
                }
                let Some(mid) = models.get(m.as_bytes()) else {
                    return Err(err(t, F::Models, Some(i), Problem::UnknownModel));
                };
                if let Some(word) = words.get_mut(mid as usize / 64) {
                    *word |= 1 << (mid % 64);
                }
            }
            let default_model = match &tc.default_model {
                None => None,
                Some(m) => {
                    let Some(mid) = models.get(m.as_bytes()) else {
                        return Err(err(t, F::DefaultModel, None, Problem::UnknownModel));
                    };
                    let allowed = words
                        .get(mid as usize / 64)
                        .is_some_and(|w| (w >> (mid % 64)) & 1 == 1);
                    if !allowed {
                        return Err(err(
                            t,
                            F::DefaultModel,
                            None,
                            Problem::DefaultModelNotAllowed,
                        ));
                    }
                    Some(ModelId(mid))
                }
            };
            // Pools.
            let mut pools = PoolSet::default();
            for (i, &p) in tc.pools.iter().enumerate() {
                if p >= config.pools {
                    return Err(err(t, F::Pools, Some(i), Problem::UnknownPool));
                }
                pools = pools.with(p);
            }
            if tc.max_in_flight == 0 {
                return Err(err(t, F::MaxInFlight, None, Problem::OutOfRange));
            }
            if !(0x0300..=0x0304).contains(&tc.tls.min_version) {
                return Err(err(t, F::TlsMinVersion, None, Problem::OutOfRange));
            }
            for (i, a) in tc.tls.alpn.iter().enumerate() {
                if let Some(p) = too_long(a.len(), MAX_ALPN_NAME) {
                    return Err(err(t, F::TlsAlpn, Some(i), p));
                }
            }
            tenants.push(TenantPolicy {
                name: tc.name.clone(),
                pools,
                priority: tc.priority,
                max_in_flight: tc.max_in_flight,
                rate: tc.rate,
                tls: tc.tls.clone(),
                default_model,
            });
        }

        let lpm_err = |at: &[(usize, usize)], (i, e): (usize, LpmError)| {
            let (t, item) = at.get(i).copied().unwrap_or((0, i));
            let problem = match e {
                LpmError::LengthTooLong => Problem::OutOfRange,
                LpmError::HostBitsSet => Problem::HostBitsSet,
                LpmError::Duplicate(o) => Problem::DuplicateOf { other: o as usize },
                LpmError::TooManyLongPrefixes => Problem::TooMany,
            };
            err(t, F::Prefixes, Some(item), problem)
        };
        let v4 = lpm::Lpm4::build(&v4).map_err(|e| lpm_err(&v4_at, e))?;
        let v6 = Lpm::build(&v6).map_err(|e| lpm_err(&v6_at, e))?;

        // Trusted tunnel endpoints: one LPM pair, every prefix mapping to 0.
        let endpoints = if config.tunnel_endpoints.is_empty() {
            None
        } else {
            let (mut e4, mut e4_at, mut e6, mut e6_at) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (i, p) in config.tunnel_endpoints.iter().enumerate() {
                match p.addr {
                    IpAddr::V4(a) => {
                        e4.push((u32::from(a), p.len, 0));
                        e4_at.push(i);
                    }
                    IpAddr::V6(a) => {
                        e6.push((u128::from(a), p.len, 0));
                        e6_at.push(i);
                    }
                }
            }
            let ep_err = |at: &[usize], (i, e): (usize, LpmError)| ConfigError {
                path: FieldPath::TunnelEndpoint {
                    index: at.get(i).copied().unwrap_or(i),
                },
                problem: match e {
                    LpmError::LengthTooLong => Problem::OutOfRange,
                    LpmError::HostBitsSet => Problem::HostBitsSet,
                    LpmError::Duplicate(o) => Problem::DuplicateOf {
                        other: at.get(o as usize).copied().unwrap_or(o as usize),
                    },
                    LpmError::TooManyLongPrefixes => Problem::TooMany,
                },
            };
            Some((
                lpm::Lpm4::build(&e4).map_err(|e| ep_err(&e4_at, e))?,
                Lpm::build(&e6).map_err(|e| ep_err(&e6_at, e))?,
            ))
        };

        Ok(Self {
            precedence,
            precedence_len,
            ports,
            vlans,
            vnis,
            v4,
            v6,
            endpoints,
            unattributed_rate: config.unattributed_rate,
            sni_exact,
            sni_suffix,
            claims,
            models,
            model_names: config.models.clone(),
            model_bits,
            model_words,
            tenants,
        })
    }

    /// The trusted attributes of a parsed frame that arrived on `port` (`bytes` are the
    /// frame's). Outside a tunnel: the port, the outermost VLAN id and the source address. In
    /// a VXLAN/GENEVE tunnel the inner frame decides only when the tunnel is trusted (its VNI
    /// is one a tenant lists, or its outer source address lies in
    /// [`PolicyConfig::tunnel_endpoints`]): then the VNI and the inner source address count;
    /// otherwise the VNI is ignored and the outer source address stands, so a tunnel from an
    /// endpoint nobody configured cannot borrow a tenant's prefix by what it puts inside.
    #[inline]
    pub fn trusted(&self, port: u16, bytes: &[u8], summary: &FrameSummary) -> Trusted<'static> {
        let mut t = Trusted::from_frame(port, summary);
        if let Some(tunnel) = summary.tunnel {
            let outer = outer_source(bytes, summary);
            if !self.tunnel_trusted(tunnel.vni, outer) {
                t.vni = None;
                t.src = outer;
            }
        }
        t
    }

    /// Whether a tunnel with `vni` from outer source `outer` is trusted (see
    /// [`PolicyTable::trusted`]).
    pub fn tunnel_trusted(&self, vni: u32, outer: Option<Source>) -> bool {
        if self.vnis.get(&vni).is_some() {
            return true;
        }
        match (&self.endpoints, outer) {
            (Some((e4, _)), Some(Source::V4(a))) => e4.lookup(a).is_some(),
            (Some((_, e6)), Some(Source::V6(a))) => e6.lookup(u128::from_be_bytes(a)).is_some(),
            _ => false,
        }
    }

    /// The tenant a ClientHello's SNI names, if it is complete and names one.
    pub fn sni_tenant(&self, req: &RequestInfo) -> Option<TenantId> {
        if req.kind != RequestKind::Tls || req.sni.is_empty() || req.sni.is_truncated() {
            return None;
        }
        self.by_sni(req.sni.as_bytes()).map(TenantId)
    }

    /// Whether `attribute` is among the attributes tried ([`PolicyConfig::precedence`]).
    pub fn uses(&self, attribute: Attribute) -> bool {
        self.precedence
            .get(..self.precedence_len)
            .is_some_and(|p| p.contains(&attribute))
    }

    /// The policer limit of unattributed traffic ([`PolicyConfig::unattributed_rate`]).
    pub fn unattributed_rate(&self) -> RateLimit {
        self.unattributed_rate
    }

    /// Number of tenants.
    pub fn tenant_count(&self) -> usize {
        self.tenants.len()
    }

    /// The policy of `tenant`.
    pub fn tenant(&self, tenant: TenantId) -> Option<&TenantPolicy> {
        self.tenants.get(tenant.0 as usize)
    }

    /// The id of the model named `name`.
    pub fn model_id(&self, name: &[u8]) -> Option<ModelId> {
        self.models.get(name).map(ModelId)
    }

    /// The name of `model`.
    pub fn model_name(&self, model: ModelId) -> Option<&str> {
        self.model_names.get(model.0 as usize).map(String::as_str)
    }

    /// Number of models.
    pub fn model_count(&self) -> usize {
        self.model_names.len()
    }

    /// Whether `tenant` may use `model`.
    #[inline]
    pub fn model_allowed(&self, tenant: TenantId, model: ModelId) -> bool {
        let m = model.0 as usize;
        self.model_bits
            .get(tenant.0 as usize * self.model_words + m / 64)
            .is_some_and(|w| (w >> (m % 64)) & 1 == 1)
    }

    #[inline(never)]
    fn by_sni(&self, sni: &[u8]) -> Option<u32> {
        if let Some(t) = self.sni_exact.get(sni) {
            return Some(t);
        }
        if self.sni_suffix.len() == 0 {
            return None;
        }
        // Longest suffix first: the suffix after the first dot, then after the second, ...
        for (i, &b) in sni.iter().enumerate() {
            if b == b'.' {
                if let Some(t) = sni.get(i..).and_then(|s| self.sni_suffix.get(s)) {
                    return Some(t);
                }
            }
        }
        None
    }

    #[inline]
    fn by_attribute(&self, a: Attribute, t: &Trusted<'_>) -> Option<u32> {
        match a {
            Attribute::Port => t
                .port
                .and_then(|p| self.ports.get(usize::from(p)))
                .and_then(|&v| v.checked_sub(1)),
            Attribute::Vlan => t
                .vlan
                .and_then(|v| self.vlans.get(usize::from(v)))
                .and_then(|&v| v.checked_sub(1)),
            Attribute::Vni => t.vni.and_then(|v| self.vnis.get(&v)),
            Attribute::SourcePrefix => self.by_source(t),
            Attribute::Sni => t.sni.and_then(|s| self.by_sni(s)),
        }
    }

    /// The tenant the trusted attributes name: the first attribute, in precedence order, bound
    /// to a tenant.
    #[inline]
    pub fn resolve(&self, t: &Trusted<'_>) -> Option<TenantId> {
        let order = self.precedence.get(..self.precedence_len).unwrap_or(&[]);
        for &a in order {
            if let Some(id) = self.by_attribute(a, t) {
                return Some(TenantId(id));
            }
        }
        None
    }

    /// [`resolve`](Self::resolve) for a burst: `out[i]` for `attrs[i]` (up to the shorter of
    /// the two). Attribute by attribute over the whole burst, so each table is probed in one
    /// tight loop whose loads overlap.
    #[inline]
    pub fn resolve_burst(&self, attrs: &[Trusted<'_>], out: &mut [Option<TenantId>]) {
        let n = attrs.len().min(out.len());
        let (attrs, out) = (
            attrs.get(..n).unwrap_or(&[]),
            out.get_mut(..n).unwrap_or(&mut []),
        );
        out.fill(None);
        let mut unresolved = n;
        for &a in self.precedence.get(..self.precedence_len).unwrap_or(&[]) {
            if unresolved == 0 {
                break;
            }
            unresolved = match a {
                Attribute::Port => Self::fill(out, attrs, |t| {
                    t.port
                        .and_then(|p| self.ports.get(usize::from(p)))
                        .and_then(|&v| v.checked_sub(1))
                }),
                Attribute::Vlan => Self::fill(out, attrs, |t| {
                    t.vlan
                        .and_then(|v| self.vlans.get(usize::from(v)))
                        .and_then(|&v| v.checked_sub(1))
                }),
                Attribute::Vni => Self::fill(out, attrs, |t| t.vni.and_then(|v| self.vnis.get(&v))),
                Attribute::SourcePrefix => Self::fill(out, attrs, |t| self.by_source(t)),
                Attribute::Sni => Self::fill(out, attrs, |t| t.sni.and_then(|s| self.by_sni(s))),
            };
        }
    }

    /// Fills the unresolved entries of `out` with `f`; returns how many stay unresolved.
    #[inline(always)]
    fn fill(
        out: &mut [Option<TenantId>],
        attrs: &[Trusted<'_>],
        f: impl Fn(&Trusted<'_>) -> Option<u32>,
    ) -> usize {
        let mut left = 0;
        for (o, t) in out.iter_mut().zip(attrs) {
            if o.is_none() {
                *o = f(t).map(TenantId);
                left += usize::from(o.is_none());
            }
        }
        left
    }

    #[inline(always)]
    fn by_source(&self, t: &Trusted<'_>) -> Option<u32> {
        match t.src {
            Some(Source::V4(a)) => self.v4.lookup(a),
            Some(Source::V6(a)) => self.by_v6(a),
            None => None,
        }
    }

    #[inline(never)]
    fn by_v6(&self, a: [u8; 16]) -> Option<u32> {
        self.v6.lookup(u128::from_be_bytes(a))
    }

    /// The tenant a claimed identity names, if any.
    pub fn claimed(&self, claim: &[u8]) -> Option<TenantId> {
        self.claims.get(claim).map(TenantId)
    }

    /// Checks a classified flow of the trusted `tenant`: its claimed identity, its TLS policy
    /// and its model.
    ///
    /// # Errors
    ///
    /// [`DropReason::UnknownTenant`] for a tenant id not in the table,
    /// [`DropReason::SpoofedTenant`] when the request claims another identity, the TLS policy's
    /// refusal, [`DropReason::UnknownModel`], [`DropReason::ModelNotAllowed`] or
    /// [`DropReason::NoModel`].
    pub fn admit(&self, tenant: TenantId, req: &RequestInfo) -> Result<Admission, DropReason> {
        let Some(policy) = self.tenant(tenant) else {
            return Err(DropReason::UnknownTenant);
        };
        if !req.tenant_claim.is_empty() {
            let claimed = if req.tenant_claim.is_truncated() {
                None
            } else {
                self.claimed(req.tenant_claim.as_bytes())
            };
            if claimed != Some(tenant) {
                return Err(DropReason::SpoofedTenant);
            }
        }
        let hint = policy.tls.evaluate(req)?;
        let model = match (hint, req.kind) {
            (TlsHint::Plaintext, RequestKind::Http1 | RequestKind::H2 | RequestKind::Grpc) => {
                Some(self.model_for(tenant, policy, req)?)
            }
            (TlsHint::PassThrough, _) => Some(policy.default_model.ok_or(DropReason::NoModel)?),
            _ => None,
        };
        Ok(Admission {
            tenant,
            model,
            pools: policy.pools,
            priority: policy.priority,
            hint,
        })
    }

    fn model_for(
        &self,
        tenant: TenantId,
        policy: &TenantPolicy,
        req: &RequestInfo,
    ) -> Result<ModelId, DropReason> {
        if req.model.is_empty() {
            return policy.default_model.ok_or(DropReason::NoModel);
        }
        if req.model.is_truncated() {
            return Err(DropReason::UnknownModel);
        }
        let model = self
            .model_id(req.model.as_bytes())
            .ok_or(DropReason::UnknownModel)?;
        if self.model_allowed(tenant, model) {
            Ok(model)
        } else {
            Err(DropReason::ModelNotAllowed)
        }
    }
}

/// [`PolicerBank`]: the tenant limits packets.
const LIMITS_PACKETS: u8 = 1;
/// [`PolicerBank`]: the tenant limits bytes.
const LIMITS_BYTES: u8 = 2;

/// Per-core policing state for every tenant of a [`PolicyTable`]: created at setup, then
/// [`police`](Self::police)d on every packet with the burst's timestamp. Not shared between
/// cores (no lock, no atomics): give each core its own bank with its share of the rates.
#[derive(Clone, Debug)]
pub struct PolicerBank {
    /// Per tenant: clock and packet bucket (32 bytes each, the part every packet touches).
    heads: Vec<police::Head>,
    /// Per tenant: which of its limits are set ([`LIMITS_PACKETS`], [`LIMITS_BYTES`]; a
    /// small array, always in cache): a tenant without limits is never policed, and one
    /// without a byte limit never touches `bytes`.
    limits: Vec<u8>,
    /// Per tenant: the byte buckets (unused for tenants without a byte limit).
    bytes: Vec<police::Bytes>,
}

impl PolicerBank {
    /// Full buckets for every tenant at `now_ns`, each rate divided by `share` (the number of
    /// cores that police the same tenants).
    pub fn new(table: &PolicyTable, share: u64, now_ns: u64) -> Self {
        let limits: Vec<RateLimit> = table
            .tenants
            .iter()
            .map(|t| t.rate.divided(share))
            .collect();
        Self {
            limits: limits
                .iter()
                .map(|l| {
                    (if l.packets.is_some() {
                        LIMITS_PACKETS
                    } else {
                        0
                    }) | (if l.bytes.is_some() { LIMITS_BYTES } else { 0 })
                })
                .collect(),
            heads: limits
                .iter()
                .map(|l| police::Head::new(l, now_ns))
                .collect(),
            bytes: limits
                .iter()
                .map(|l| police::Bytes::new(l).unwrap_or(police::Bytes::UNLIMITED))
                .collect(),
        }
    }

    /// Polices one packet of `bytes` of `tenant` at `now_ns`: [`Color::Red`] means drop (also
    /// for a tenant id not in the table).
    #[inline]
    pub fn police(&mut self, tenant: TenantId, bytes: u64, now_ns: u64) -> Color {
        let i = tenant.0 as usize;
        match (self.limits.get(i), self.heads.get_mut(i)) {
            // No limit: nothing to count (an unlimited bucket never runs dry).
            (Some(0), Some(_)) => Color::Green,
            (Some(l), Some(head)) => {
                let b = if l & LIMITS_BYTES != 0 {
                    self.bytes.get_mut(i)
                } else {
                    None
                };
                police::police_parts(head, b, bytes, now_ns)
            }
            _ => Color::Red,
        }
    }
}

#[cfg(test)]
mod tests;
