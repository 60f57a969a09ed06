/*
 * The DPDK 22.11 headers that bindgen reads (feature `bindgen` of infersteer-dpdk-sys). The
 * allowlist in build.rs picks what is bound; shim.h adds the forwarders for static inlines.
 */
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_meter.h>
#include <rte_ring.h>
#include <rte_bus_vdev.h>
