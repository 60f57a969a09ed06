/*
 * infersteer DPDK shim: see shim.h. Compiled by ffi/build.rs with the `cc` crate and the
 * cflags that pkg-config reports for libdpdk.
 */
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_meter.h>
#include <rte_ring.h>

#include "shim.h"

uint16_t infersteer_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
                                 uint16_t nb_pkts)
{
	return rte_eth_rx_burst(port_id, queue_id, rx_pkts, nb_pkts);
}

uint16_t infersteer_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
                                 uint16_t nb_pkts)
{
	return rte_eth_tx_burst(port_id, queue_id, tx_pkts, nb_pkts);
}

struct rte_mbuf *infersteer_pktmbuf_alloc(struct rte_mempool *mp)
{
	return rte_pktmbuf_alloc(mp);
}

int infersteer_pktmbuf_alloc_bulk(struct rte_mempool *pool, struct rte_mbuf **mbufs,
                                  unsigned int count)
{
	return rte_pktmbuf_alloc_bulk(pool, mbufs, count);
}

void infersteer_pktmbuf_free(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/*
 * `rte_pktmbuf_free_bulk`, with the common case first: when every mbuf is direct, unshared
 * (refcnt 1), one segment (next NULL, nb_segs 1) and from the first one's pool -- what
 * `rte_mbuf_raw_free` requires, and what a driver's MBUF_FAST_FREE offload assumes -- then
 * `rte_pktmbuf_prefree_seg` would change nothing in any of them, so they go back to their pool
 * in one `rte_mempool_put_bulk`. Anything else (a NULL entry, a chain, a clone, a second pool)
 * takes the general `rte_pktmbuf_free_bulk`, which skips NULL entries.
 */
void infersteer_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count)
{
	if (count == 0)
		return;
	const struct rte_mbuf *first = mbufs[0];
	if (first != NULL) {
		struct rte_mempool *pool = first->pool;
		int odd = 0;
		for (unsigned int i = 0; i < count; i++) {
			const struct rte_mbuf *m = mbufs[i];
			if (m == NULL) {
				odd = 1;
				break;
			}
			odd |= (rte_mbuf_refcnt_read(m) != 1) |
			       ((m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) != 0) |
			       (m->next != NULL) | (m->nb_segs != 1) | (m->pool != pool);
		}
		if (!odd) {
			rte_mempool_put_bulk(pool, (void **)mbufs, count);
			return;
		}
	}
	rte_pktmbuf_free_bulk(mbufs, count);
}

uint8_t *infersteer_pktmbuf_data(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

uint16_t infersteer_pktmbuf_data_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_data_len(m);
}

uint32_t infersteer_pktmbuf_pkt_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m);
}

uint16_t infersteer_pktmbuf_nb_segs(const struct rte_mbuf *m)
{
	return m->nb_segs;
}

int infersteer_pktmbuf_rss_hash(const struct rte_mbuf *m, uint32_t *hash)
{
	if ((m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) == 0)
		return 0;
	*hash = m->hash.rss;
	return 1;
}

uint64_t infersteer_pktmbuf_ol_flags(const struct rte_mbuf *m)
{
	return m->ol_flags;
}

uint8_t *infersteer_pktmbuf_append(struct rte_mbuf *m, uint16_t len)
{
	return (uint8_t *)rte_pktmbuf_append(m, len);
}

uint16_t infersteer_pktmbuf_tailroom(const struct rte_mbuf *m)
{
	return rte_pktmbuf_tailroom(m);
}

int infersteer_pktmbuf_writable(const struct rte_mbuf *m)
{
	return rte_mbuf_refcnt_read(m) == 1 &&
	       (m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) == 0;
}

uint16_t infersteer_pktmbuf_ref(struct rte_mbuf *m)
{
	return rte_mbuf_refcnt_update(m, 1);
}

int infersteer_pktmbuf_chain(struct rte_mbuf *head, struct rte_mbuf *tail)
{
	return rte_pktmbuf_chain(head, tail);
}

int infersteer_pktmbuf_trim(struct rte_mbuf *m, uint16_t len)
{
	return rte_pktmbuf_trim(m, len);
}

void infersteer_pktmbuf_reset(struct rte_mbuf *m)
{
	rte_pktmbuf_reset(m);
}

struct rte_mempool *infersteer_pktmbuf_pool(const struct rte_mbuf *m)
{
	return m->pool;
}

uint16_t infersteer_pktmbuf_port(const struct rte_mbuf *m)
{
	return m->port;
}

unsigned int infersteer_mempool_avail_count(const struct rte_mempool *mp)
{
	return rte_mempool_avail_count(mp);
}

unsigned int infersteer_mempool_in_use_count(const struct rte_mempool *mp)
{
	return rte_mempool_in_use_count(mp);
}

unsigned int infersteer_ring_sp_enqueue_burst(struct rte_ring *r, void *const *obj_table,
                                              unsigned int n, unsigned int *free_space)
{
	return rte_ring_sp_enqueue_burst(r, obj_table, n, free_space);
}

unsigned int infersteer_ring_mp_enqueue_burst(struct rte_ring *r, void *const *obj_table,
                                              unsigned int n, unsigned int *free_space)
{
	return rte_ring_mp_enqueue_burst(r, obj_table, n, free_space);
}

unsigned int infersteer_ring_sc_dequeue_burst(struct rte_ring *r, void **obj_table,
                                              unsigned int n, unsigned int *available)
{
	return rte_ring_sc_dequeue_burst(r, obj_table, n, available);
}

unsigned int infersteer_ring_mc_dequeue_burst(struct rte_ring *r, void **obj_table,
                                              unsigned int n, unsigned int *available)
{
	return rte_ring_mc_dequeue_burst(r, obj_table, n, available);
}

unsigned int infersteer_ring_sp_enqueue_burst_elem(struct rte_ring *r, const void *obj_table,
                                                   unsigned int esize, unsigned int n,
                                                   unsigned int *free_space)
{
	return rte_ring_sp_enqueue_burst_elem(r, obj_table, esize, n, free_space);
}

unsigned int infersteer_ring_sc_dequeue_burst_elem(struct rte_ring *r, void *obj_table,
                                                   unsigned int esize, unsigned int n,
                                                   unsigned int *available)
{
	return rte_ring_sc_dequeue_burst_elem(r, obj_table, esize, n, available);
}

unsigned int infersteer_ring_count(const struct rte_ring *r)
{
	return rte_ring_count(r);
}

unsigned int infersteer_ring_free_count(const struct rte_ring *r)
{
	return rte_ring_free_count(r);
}

unsigned int infersteer_ring_capacity(const struct rte_ring *r)
{
	return rte_ring_get_capacity(r);
}

int infersteer_errno(void)
{
	return rte_errno;
}

unsigned int infersteer_lcore_id(void)
{
	return rte_lcore_id();
}

uint64_t infersteer_rdtsc(void)
{
	return rte_rdtsc();
}

int infersteer_meter_trtcm_rfc2698_color_blind_check(struct rte_meter_trtcm *m,
                                                      struct rte_meter_trtcm_profile *p,
                                                      uint64_t time, uint32_t pkt_len)
{
	return (int)rte_meter_trtcm_color_blind_check(m, p, time, pkt_len);
}

uint32_t infersteer_jhash(const void *key, uint32_t length, uint32_t initval)
{
	return rte_jhash(key, length, initval);
}

/* The pattern and actions of one 5-tuple rule, built on the caller's stack. */
struct five_tuple_rule {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[6];
	struct rte_flow_item_vlan vlan_spec[2], vlan_mask[2];
	struct rte_flow_action actions[2];
	struct rte_flow_item_ipv4 ip4_spec, ip4_mask;
	struct rte_flow_item_ipv6 ip6_spec, ip6_mask;
	struct rte_flow_item_udp udp_spec, udp_mask;
	struct rte_flow_item_tcp tcp_spec, tcp_mask;
	struct rte_flow_action_queue queue;
};

static int build_5tuple(struct five_tuple_rule *r, uint8_t ip_version, const uint8_t *src_addr,
                        const uint8_t *dst_addr, uint16_t src_port, uint16_t dst_port,
                        uint8_t l4_proto, uint8_t vlan_count, const uint16_t *vlan_ids,
                        uint16_t queue)
{
	memset(r, 0, sizeof(*r));
	r->attr.ingress = 1;
	r->pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
	if (vlan_count > 2 || (vlan_count > 0 && vlan_ids == NULL))
		return -EINVAL;
	for (unsigned int v = 0; v < vlan_count; v++) {
		if (vlan_ids[v] > 0x0fff)
			return -EINVAL;
		r->vlan_spec[v].hdr.vlan_tci = rte_cpu_to_be_16(vlan_ids[v]);
		r->vlan_mask[v].hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
		r->pattern[1 + v].type = RTE_FLOW_ITEM_TYPE_VLAN;
		r->pattern[1 + v].spec = &r->vlan_spec[v];
		r->pattern[1 + v].mask = &r->vlan_mask[v];
	}
	const unsigned int l3 = 1 + vlan_count;
	if (ip_version == 4) {
		memcpy(&r->ip4_spec.hdr.src_addr, src_addr, 4);
		memcpy(&r->ip4_spec.hdr.dst_addr, dst_addr, 4);
		r->ip4_spec.hdr.next_proto_id = l4_proto;
		r->ip4_mask.hdr.src_addr = UINT32_MAX;
		r->ip4_mask.hdr.dst_addr = UINT32_MAX;
		r->ip4_mask.hdr.next_proto_id = UINT8_MAX;
		r->pattern[l3].type = RTE_FLOW_ITEM_TYPE_IPV4;
		r->pattern[l3].spec = &r->ip4_spec;
		r->pattern[l3].mask = &r->ip4_mask;
	} else if (ip_version == 6) {
		memcpy(r->ip6_spec.hdr.src_addr, src_addr, 16);
		memcpy(r->ip6_spec.hdr.dst_addr, dst_addr, 16);
		r->ip6_spec.hdr.proto = l4_proto;
		memset(r->ip6_mask.hdr.src_addr, 0xff, 16);
		memset(r->ip6_mask.hdr.dst_addr, 0xff, 16);
		r->ip6_mask.hdr.proto = UINT8_MAX;
		r->pattern[l3].type = RTE_FLOW_ITEM_TYPE_IPV6;
		r->pattern[l3].spec = &r->ip6_spec;
		r->pattern[l3].mask = &r->ip6_mask;
	} else {
		return -EINVAL;
	}
	if (l4_proto == IPPROTO_UDP) {
		r->udp_spec.hdr.src_port = rte_cpu_to_be_16(src_port);
		r->udp_spec.hdr.dst_port = rte_cpu_to_be_16(dst_port);
		r->udp_mask.hdr.src_port = UINT16_MAX;
		r->udp_mask.hdr.dst_port = UINT16_MAX;
		r->pattern[l3 + 1].type = RTE_FLOW_ITEM_TYPE_UDP;
		r->pattern[l3 + 1].spec = &r->udp_spec;
		r->pattern[l3 + 1].mask = &r->udp_mask;
	} else if (l4_proto == IPPROTO_TCP) {
		r->tcp_spec.hdr.src_port = rte_cpu_to_be_16(src_port);
		r->tcp_spec.hdr.dst_port = rte_cpu_to_be_16(dst_port);
		r->tcp_mask.hdr.src_port = UINT16_MAX;
		r->tcp_mask.hdr.dst_port = UINT16_MAX;
		r->pattern[l3 + 1].type = RTE_FLOW_ITEM_TYPE_TCP;
		r->pattern[l3 + 1].spec = &r->tcp_spec;
		r->pattern[l3 + 1].mask = &r->tcp_mask;
	} else {
		return -EINVAL;
	}
	r->pattern[l3 + 2].type = RTE_FLOW_ITEM_TYPE_END;
	r->queue.index = queue;
	r->actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
	r->actions[0].conf = &r->queue;
	r->actions[1].type = RTE_FLOW_ACTION_TYPE_END;
	return 0;
}

int infersteer_flow_validate_5tuple(uint16_t port_id, uint8_t ip_version, const uint8_t *src_addr,
                                    const uint8_t *dst_addr, uint16_t src_port, uint16_t dst_port,
                                    uint8_t l4_proto, uint8_t vlan_count, const uint16_t *vlan_ids,
                                    uint16_t queue, struct rte_flow_error *error)
{
	struct five_tuple_rule r;
	int ret = build_5tuple(&r, ip_version, src_addr, dst_addr, src_port, dst_port, l4_proto,
	                       vlan_count, vlan_ids, queue);
	if (ret != 0)
		return ret;
	return rte_flow_validate(port_id, &r.attr, r.pattern, r.actions, error);
}

struct rte_flow *infersteer_flow_create_5tuple(uint16_t port_id, uint8_t ip_version,
                                               const uint8_t *src_addr, const uint8_t *dst_addr,
                                               uint16_t src_port, uint16_t dst_port,
                                               uint8_t l4_proto, uint8_t vlan_count,
                                               const uint16_t *vlan_ids, uint16_t queue,
                                               struct rte_flow_error *error)
{
	struct five_tuple_rule r;
	int ret = build_5tuple(&r, ip_version, src_addr, dst_addr, src_port, dst_port, l4_proto,
	                       vlan_count, vlan_ids, queue);
	if (ret != 0) {
		rte_errno = -ret;
		return NULL;
	}
	return rte_flow_create(port_id, &r.attr, r.pattern, r.actions, error);
}

/* The values of ffi/src/lib.rs `consts`, checked against the headers. */
_Static_assert(RTE_ETH_RSS_IPV4 == (1ULL << 2), "RTE_ETH_RSS_IPV4");
_Static_assert(RTE_ETH_RSS_FRAG_IPV4 == (1ULL << 3), "RTE_ETH_RSS_FRAG_IPV4");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV4_TCP == (1ULL << 4), "RTE_ETH_RSS_NONFRAG_IPV4_TCP");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV4_UDP == (1ULL << 5), "RTE_ETH_RSS_NONFRAG_IPV4_UDP");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV4_OTHER == (1ULL << 7), "RTE_ETH_RSS_NONFRAG_IPV4_OTHER");
_Static_assert(RTE_ETH_RSS_IPV6 == (1ULL << 8), "RTE_ETH_RSS_IPV6");
_Static_assert(RTE_ETH_RSS_FRAG_IPV6 == (1ULL << 9), "RTE_ETH_RSS_FRAG_IPV6");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV6_TCP == (1ULL << 10), "RTE_ETH_RSS_NONFRAG_IPV6_TCP");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV6_UDP == (1ULL << 11), "RTE_ETH_RSS_NONFRAG_IPV6_UDP");
_Static_assert(RTE_ETH_RSS_NONFRAG_IPV6_OTHER == (1ULL << 13), "RTE_ETH_RSS_NONFRAG_IPV6_OTHER");
_Static_assert(RTE_ETH_RSS_IPV6_EX == (1ULL << 15), "RTE_ETH_RSS_IPV6_EX");
_Static_assert(RTE_ETH_RSS_IPV6_TCP_EX == (1ULL << 16), "RTE_ETH_RSS_IPV6_TCP_EX");
_Static_assert(RTE_ETH_RSS_IPV6_UDP_EX == (1ULL << 17), "RTE_ETH_RSS_IPV6_UDP_EX");
_Static_assert(RTE_MBUF_F_RX_RSS_HASH == (1ULL << 1), "RTE_MBUF_F_RX_RSS_HASH");
_Static_assert(RTE_MBUF_F_RX_L4_CKSUM_BAD == (1ULL << 3), "RTE_MBUF_F_RX_L4_CKSUM_BAD");
_Static_assert(RTE_MBUF_F_RX_L4_CKSUM_GOOD == (1ULL << 8), "RTE_MBUF_F_RX_L4_CKSUM_GOOD");
_Static_assert(RTE_MBUF_F_RX_L4_CKSUM_NONE == ((1ULL << 3) | (1ULL << 8)), "RTE_MBUF_F_RX_L4_CKSUM_NONE");
_Static_assert(RTE_MBUF_F_RX_L4_CKSUM_MASK == ((1ULL << 3) | (1ULL << 8)), "RTE_MBUF_F_RX_L4_CKSUM_MASK");

/* The first-cache-line fields the Rust fast path reads in place (`consts::MBUF_OFF_*`). */
_Static_assert(offsetof(struct rte_mbuf, buf_addr) == 0, "MBUF_OFF_BUF_ADDR");
_Static_assert(offsetof(struct rte_mbuf, data_off) == 16, "MBUF_OFF_DATA_OFF");
_Static_assert(offsetof(struct rte_mbuf, nb_segs) == 20, "MBUF_OFF_NB_SEGS");
_Static_assert(offsetof(struct rte_mbuf, port) == 22, "MBUF_OFF_PORT");
_Static_assert(offsetof(struct rte_mbuf, ol_flags) == 24, "MBUF_OFF_OL_FLAGS");
_Static_assert(offsetof(struct rte_mbuf, pkt_len) == 36, "MBUF_OFF_PKT_LEN");
_Static_assert(offsetof(struct rte_mbuf, data_len) == 40, "MBUF_OFF_DATA_LEN");
_Static_assert(offsetof(struct rte_mbuf, hash.rss) == 44, "MBUF_OFF_HASH_RSS");
_Static_assert(sizeof(((struct rte_mbuf *)0)->buf_addr) == 8, "buf_addr is a pointer");
_Static_assert(sizeof(((struct rte_mbuf *)0)->ol_flags) == 8, "ol_flags is 64-bit");
_Static_assert(RTE_ETH_LINK_UP == 1, "RTE_ETH_LINK_UP");
_Static_assert(RTE_MBUF_DEFAULT_BUF_SIZE == 2048 + 128, "RTE_MBUF_DEFAULT_BUF_SIZE");
_Static_assert(RING_F_SP_ENQ == 0x0001, "RING_F_SP_ENQ");
_Static_assert(RING_F_SC_DEQ == 0x0002, "RING_F_SC_DEQ");
_Static_assert(RTE_ETH_MQ_RX_NONE == 0, "RTE_ETH_MQ_RX_NONE");
_Static_assert(RTE_ETH_MQ_RX_RSS == 1, "RTE_ETH_MQ_RX_RSS");
_Static_assert(SOCKET_ID_ANY == -1, "SOCKET_ID_ANY");
_Static_assert(RTE_MAX_ETHPORTS == 32, "RTE_MAX_ETHPORTS");
