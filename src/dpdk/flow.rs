//! Flow offload (`rte_flow`): pin an established flow (IPv4/IPv6 5-tuple) to an RX queue in
//! the NIC, or report that software has to steer it.

use core::net::IpAddr;
use core::ptr::NonNull;

use infersteer_dpdk_sys as sys;

use super::error::DpdkError;
use super::port::{Port, ENOTSUP};

/// `ENOSYS` on Linux.
const ENOSYS: i32 = 38;

/// Transport protocol of a [`FiveTuple`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L4Proto {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
}

impl L4Proto {
    fn number(self) -> u8 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
        }
    }
}

/// An established flow as the NIC sees it on ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// Source address (both addresses must be of the same family).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// TCP or UDP.
    pub proto: L4Proto,
    /// The flow's outer VLAN ids, outermost first (at most two, each at most 0xfff; empty for
    /// an untagged flow): part of the flow's identity, so the rule matches this VLAN stack
    /// only, never the same 5-tuple on another tenant's VLAN. Tunnelled flows (whose identity
    /// includes the VNI and outer endpoint) are not offloaded by this rule: steer them in
    /// software.
    pub vlans: &'static [u16],
}

/// What [`Port::steer_flow`] achieved.
#[derive(Debug)]
#[must_use = "dropping a FlowOffload::Hardware rule removes it from the NIC"]
pub enum FlowOffload<'p> {
    /// The NIC steers the flow; the rule lives as long as this value.
    Hardware(FlowRule<'p>),
    /// The device has no `rte_flow` support (e.g. `net_null`, `net_ring`): the caller must
    /// steer the flow in software. Counted in [`Port::flow_counts`].
    Software,
}

/// An installed `rte_flow` rule, destroyed (`rte_flow_destroy`) on drop. Borrows its port.
#[derive(Debug)]
pub struct FlowRule<'p> {
    port: &'p Port<'p>,
    raw: NonNull<sys::rte_flow>,
}

// SAFETY: the rule is an opaque handle only passed back to `rte_flow_destroy`, which DPDK
// allows from any thread (flow API calls are serialised by the ethdev layer unless the PMD
// declares them thread-safe).
unsafe impl Send for FlowRule<'_> {}
// SAFETY: `&FlowRule` exposes nothing that touches the rule.
unsafe impl Sync for FlowRule<'_> {}

impl FlowRule<'_> {
    /// The raw rule.
    pub fn as_ptr(&self) -> *mut sys::rte_flow {
        self.raw.as_ptr()
    }
}

impl Drop for FlowRule<'_> {
    fn drop(&mut self) {
        let mut err = sys::rte_flow_error::default();
        // SAFETY: `raw` was created on this port by `rte_flow_create` and is destroyed once;
        // the port outlives the rule (borrow); `err` is a valid out-pointer.
        let _ = unsafe { sys::rte_flow_destroy(self.port.id(), self.raw.as_ptr(), &mut err) };
    }
}

/// Address bytes (network order) and IP version of a tuple, or `None` for mixed families.
fn addresses(t: &FiveTuple) -> Option<(u8, [u8; 16], [u8; 16])> {
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    match (t.src, t.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            src[..4].copy_from_slice(&s.octets());
            dst[..4].copy_from_slice(&d.octets());
            Some((4, src, dst))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            src.copy_from_slice(&s.octets());
            dst.copy_from_slice(&d.octets());
            Some((6, src, dst))
        }
        _ => None,
    }
}

impl Port<'_> {
    /// Asks the NIC to deliver `flow` to RX queue `queue`: validates the rule
    /// (`rte_flow_validate`) and creates it (`rte_flow_create`). A device without flow
    /// support answers [`FlowOffload::Software`] (counted), any other refusal is an error.
    /// Control path: call it when a flow is established, not per packet.
    pub fn steer_flow(&self, flow: &FiveTuple, queue: u16) -> Result<FlowOffload<'_>, DpdkError> {
        if queue >= self.rx_queue_count() {
            return Err(DpdkError::InvalidArgument {
                what: "flow target queue >= configured RX queues",
            });
        }
        let (version, src, dst) = addresses(flow).ok_or(DpdkError::InvalidArgument {
            what: "flow addresses of different IP versions",
        })?;
        let proto = flow.proto.number();
        if flow.vlans.len() > 2 || flow.vlans.iter().any(|&v| v > 0x0fff) {
            return Err(DpdkError::InvalidArgument {
                what: "flow VLAN stack: at most two ids, each at most 0xfff",
            });
        }
        let vlan_count = flow.vlans.len() as u8;
        let vlan_ids = flow.vlans.as_ptr();
        let mut err = sys::rte_flow_error::default();
        // SAFETY: `src`/`dst` are 16 readable bytes (the shim reads 4 or 16), `vlan_ids` points
        // at `vlan_count` (≤ 2, checked) readable ids, `err` is a valid out-pointer, and the
        // port id is valid; the shim builds the pattern on its stack.
        let ret = unsafe {
            sys::infersteer_flow_validate_5tuple(
                self.id(),
                version,
                src.as_ptr(),
                dst.as_ptr(),
                flow.src_port,
                flow.dst_port,
                proto,
                vlan_count,
                vlan_ids,
                queue,
                &mut err,
            )
        };
        if ret == -ENOTSUP || ret == -ENOSYS {
            self.count_flow(false);
            return Ok(FlowOffload::Software);
        }
        if ret < 0 {
            return Err(DpdkError::from_ret("rte_flow_validate", ret));
        }
        // SAFETY: as for validate; the rule returned (if any) is owned by the `FlowRule`.
        let raw = unsafe {
            sys::infersteer_flow_create_5tuple(
                self.id(),
                version,
                src.as_ptr(),
                dst.as_ptr(),
                flow.src_port,
                flow.dst_port,
                proto,
                vlan_count,
                vlan_ids,
                queue,
                &mut err,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| DpdkError::from_rte_errno("rte_flow_create"))?;
        self.count_flow(true);
        Ok(FlowOffload::Hardware(FlowRule { port: self, raw }))
    }
}
