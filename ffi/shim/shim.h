/*
 * infersteer DPDK shim: real, linkable functions for the `static inline` fast-path helpers of
 * DPDK 22.11 that bindgen cannot bind (it only sees declarations of exported symbols).
 *
 * Every function is a one-line forwarder to the DPDK inline of the same role; the Rust side
 * declares them in `ffi/src/lib.rs` (module `shim`). Keep this header free of DPDK includes so
 * it can be read on its own; the types are forward declared.
 */
#ifndef INFERSTEER_DPDK_SHIM_H
#define INFERSTEER_DPDK_SHIM_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct rte_flow;
struct rte_flow_error;
struct rte_meter_trtcm;
struct rte_meter_trtcm_profile;

/* ethdev fast path */
uint16_t infersteer_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
                                 uint16_t nb_pkts);
uint16_t infersteer_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
                                 uint16_t nb_pkts);

/* mbuf */
struct rte_mbuf *infersteer_pktmbuf_alloc(struct rte_mempool *mp);
int infersteer_pktmbuf_alloc_bulk(struct rte_mempool *pool, struct rte_mbuf **mbufs,
                                  unsigned int count);
void infersteer_pktmbuf_free(struct rte_mbuf *m);
void infersteer_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count);
uint8_t *infersteer_pktmbuf_data(const struct rte_mbuf *m);
uint16_t infersteer_pktmbuf_data_len(const struct rte_mbuf *m);
uint32_t infersteer_pktmbuf_pkt_len(const struct rte_mbuf *m);
uint16_t infersteer_pktmbuf_nb_segs(const struct rte_mbuf *m);
/* Returns 1 and writes the hash when RTE_MBUF_F_RX_RSS_HASH is set, 0 otherwise. */
int infersteer_pktmbuf_rss_hash(const struct rte_mbuf *m, uint32_t *hash);
uint64_t infersteer_pktmbuf_ol_flags(const struct rte_mbuf *m);
uint8_t *infersteer_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
uint16_t infersteer_pktmbuf_tailroom(const struct rte_mbuf *m);
/* 1 when the mbuf may be written: reference count 1 and a direct buffer (neither indirect nor
 * external); else 0. */
int infersteer_pktmbuf_writable(const struct rte_mbuf *m);
/* Adds one reference (rte_mbuf_refcnt_update(m, 1)) and returns the new count. */
uint16_t infersteer_pktmbuf_ref(struct rte_mbuf *m);
/* rte_pktmbuf_chain: 0, or -EOVERFLOW when the chain would have too many segments. */
int infersteer_pktmbuf_chain(struct rte_mbuf *head, struct rte_mbuf *tail);
int infersteer_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
void infersteer_pktmbuf_reset(struct rte_mbuf *m);
struct rte_mempool *infersteer_pktmbuf_pool(const struct rte_mbuf *m);
uint16_t infersteer_pktmbuf_port(const struct rte_mbuf *m);

/* mempool */
unsigned int infersteer_mempool_avail_count(const struct rte_mempool *mp);
unsigned int infersteer_mempool_in_use_count(const struct rte_mempool *mp);

/* ring */
unsigned int infersteer_ring_sp_enqueue_burst(struct rte_ring *r, void *const *obj_table,
                                              unsigned int n, unsigned int *free_space);
unsigned int infersteer_ring_mp_enqueue_burst(struct rte_ring *r, void *const *obj_table,
                                              unsigned int n, unsigned int *free_space);
unsigned int infersteer_ring_sc_dequeue_burst(struct rte_ring *r, void **obj_table,
                                              unsigned int n, unsigned int *available);
unsigned int infersteer_ring_mc_dequeue_burst(struct rte_ring *r, void **obj_table,
                                              unsigned int n, unsigned int *available);
/* Element rings (rte_ring_create_elem): `esize` bytes per element, a multiple of 4. */
unsigned int infersteer_ring_sp_enqueue_burst_elem(struct rte_ring *r, const void *obj_table,
                                                   unsigned int esize, unsigned int n,
                                                   unsigned int *free_space);
unsigned int infersteer_ring_sc_dequeue_burst_elem(struct rte_ring *r, void *obj_table,
                                                   unsigned int esize, unsigned int n,
                                                   unsigned int *available);
unsigned int infersteer_ring_count(const struct rte_ring *r);
unsigned int infersteer_ring_free_count(const struct rte_ring *r);
unsigned int infersteer_ring_capacity(const struct rte_ring *r);

/* EAL / lcore / TSC */
int infersteer_errno(void);
unsigned int infersteer_lcore_id(void);
uint64_t infersteer_rdtsc(void);

/* meter (RFC 2698 trTCM, colour blind): returns enum rte_color (0 green, 1 yellow, 2 red) */
int infersteer_meter_trtcm_rfc2698_color_blind_check(struct rte_meter_trtcm *m,
                                                      struct rte_meter_trtcm_profile *p,
                                                      uint64_t time, uint32_t pkt_len);

/* jhash */
uint32_t infersteer_jhash(const void *key, uint32_t length, uint32_t initval);

/*
 * rte_flow: one rule that sends an established IPv4 or IPv6 5-tuple to an RX queue.
 * Addresses are in network byte order (4 or 16 bytes), ports in host order, `ip_version` is 4
 * or 6, `l4_proto` is 6 (TCP) or 17 (UDP). Patterns: ETH / IPV4|IPV6 / TCP|UDP / END with full
 * masks on the five fields; actions: QUEUE(queue) / END. `validate` returns 0 or a negative
 * errno (rte_flow_validate's contract); `create` returns the rule or NULL with rte_errno set.
 * `error` is filled by the PMD on failure. `vlan_count` (0..=2) VLAN items with the ids of
 * `vlan_ids` (outermost first) sit between ETH and IP, so that the rule matches only the flow's
 * own VLAN stack (a tenant's identity), never the same 5-tuple on another VLAN.
 */
int infersteer_flow_validate_5tuple(uint16_t port_id, uint8_t ip_version, const uint8_t *src_addr,
                                    const uint8_t *dst_addr, uint16_t src_port, uint16_t dst_port,
                                    uint8_t l4_proto, uint8_t vlan_count, const uint16_t *vlan_ids,
                                    uint16_t queue, struct rte_flow_error *error);
struct rte_flow *infersteer_flow_create_5tuple(uint16_t port_id, uint8_t ip_version,
                                               const uint8_t *src_addr, const uint8_t *dst_addr,
                                               uint16_t src_port, uint16_t dst_port,
                                               uint8_t l4_proto, uint8_t vlan_count,
                                               const uint16_t *vlan_ids, uint16_t queue,
                                               struct rte_flow_error *error);

#endif
