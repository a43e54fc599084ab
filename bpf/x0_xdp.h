/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the XDP program (x0_xdp.bpf.c) and its helper (x0-xdp.c): map layouts and limits. The helper reads
 * and writes these structs through pinned maps, so a change here is a change of the pinned format: the helper
 * refuses to reuse pinned maps whose sizes differ (run `x0-xdp purge` after such an upgrade). */
#ifndef X0_XDP_H
#define X0_XDP_H

#include <linux/types.h>

/* Map sizes (max_entries). Entries that traffic creates live in LRU maps, so a flood of spoofed source MACs
 * evicts the least recently seen entries instead of failing; entries the agent creates (blocklist) do not, so
 * a block is never silently forgotten. */
#define X0_COUNTERS_MAX 1024  /* per-source-MAC counters (LRU, per CPU) */
#define X0_BLOCKLIST_MAX 4096 /* blocked source MACs (hash, agent-filled) */
#define X0_BUCKETS_MAX 4096   /* token buckets, one per (source MAC, limit rule) (LRU) */
#define X0_RULES_MAX 4        /* rate-limit rules, matched in order */
#define X0_VLAN_DEPTH_MAX 2   /* 802.1Q / 802.1ad tags skipped before the ethertype */
#define X0_REASON_BYTES 16    /* a block's reason code, NUL-terminated */

#define X0_ETH_P_BATMAN 0x4305 /* batman-adv frames on the mesh's underlying interface */

struct x0_mac_key {
	__u8 mac[6];
	__u16 pad; /* always zero: part of the hash key */
};

/* Per source MAC and per CPU; the helper sums the CPUs. */
struct x0_source {
	__u64 packets;
	__u64 bytes;
	__u64 dropped_blocked;
	__u64 dropped_rate;
	__u64 batman_packets;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC_COARSE */
};

/* Totals over all sources; never evicted (one per-CPU array slot). */
struct x0_totals {
	__u64 packets;
	__u64 bytes;
	__u64 passed;
	__u64 dropped_blocked;
	__u64 dropped_rate;
	__u64 batman_packets;
	__u64 malformed;      /* shorter than an Ethernet header or a VLAN tag */
	__u64 counters_full;  /* a source could not get a counters entry (insert raced or failed) */
	__u64 blocks_expired; /* blocklist entries the program found expired and removed */
};

struct x0_block {
	__u64 expires_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) after which the block lapses; 0 = never */
	__u64 added_ns;   /* CLOCK_MONOTONIC when first blocked */
	__u64 drops;      /* frames dropped for this entry (atomic add) */
	char reason[X0_REASON_BYTES];
};

enum x0_match {
	X0_MATCH_NONE = 0,
	X0_MATCH_ETHERTYPE = 1, /* the ethertype after any VLAN tags */
	X0_MATCH_UDP_DPORT = 2, /* IPv4/IPv6 UDP destination port in [port_lo, port_hi] */
};

/* One rate-limit rule: a token bucket per source MAC, implemented in its virtual-scheduling form (GCRA,
 * ITU-T I.371): the bucket is one theoretical arrival time, updated with compare-and-swap so CPUs never lock. */
struct x0_rule {
	__u8 match; /* enum x0_match */
	__u8 pad[3];
	__u16 ethertype; /* host order */
	__u16 port_lo;   /* host order */
	__u16 port_hi;
	__u16 pad2;
	__u32 generation;   /* new per rule change: buckets of an older generation are not reused */
	__u32 rate_pps;     /* for display; the program uses interval_ns */
	__u32 burst;        /* for display; the program uses tolerance_ns */
	__u32 pad3;
	__u64 interval_ns;  /* 1e9 / rate_pps */
	__u64 tolerance_ns; /* (burst - 1) * interval_ns */
};

#define X0_CONFIG_HAS_UDP 1u    /* some rule needs the IP/UDP headers parsed */
#define X0_CONFIG_HAS_BLOCKS 2u /* the blocklist may have entries: set by the helper before it adds one, cleared
				 * only when it finds the map empty; while clear the program skips the lookup */

struct x0_config {
	__u32 rule_count;
	__u32 flags;
	__u32 generation_seq; /* last generation handed out (helper side) */
	__u32 pad;
	struct x0_rule rules[X0_RULES_MAX];
};

struct x0_bucket_key {
	__u8 mac[6];
	__u8 rule;
	__u8 pad;
	__u32 generation;
};

struct x0_bucket {
	__u64 tat_ns; /* theoretical arrival time of the next conforming frame (bpf_ktime_get_ns) */
};

/* Per rule and per CPU: frames that matched the rule and frames it dropped. */
struct x0_rule_stats {
	__u64 matched;
	__u64 dropped;
};

#endif
