// SPDX-License-Identifier: GPL-2.0
/* x0tta6bl4's XDP program for a mesh interface. One program, because an interface runs one XDP program
 * (without a dispatcher); for every frame, in this order:
 *   1. blocklist: a listed source MAC is dropped (per-entry TTL, checked here; expired entries are removed);
 *      skipped while the helper's config says the blocklist is empty (saves a hash lookup a frame);
 *   2. rate limit: the first rule the frame matches (ethertype, or UDP destination port range) charges the
 *      source MAC's token bucket; a frame beyond the bucket is dropped;
 *   3. counters: packets, bytes, drops and batman-adv frames per source MAC (per CPU), and totals.
 * Maps are pinned by name under the helper's pin directory, so state outlives the helper and the agent. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "x0_xdp.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, X0_COUNTERS_MAX);
	__type(key, struct x0_mac_key);
	__type(value, struct x0_source);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_totals);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, X0_BLOCKLIST_MAX);
	__type(key, struct x0_mac_key);
	__type(value, struct x0_block);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct x0_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, X0_BUCKETS_MAX);
	__type(key, struct x0_bucket_key);
	__type(value, struct x0_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, X0_RULES_MAX);
	__type(key, __u32);
	__type(value, struct x0_rule_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} x0_rule_stats SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

enum verdict { PASS, DROP_BLOCKED, DROP_RATE };

/* Compare-and-swap attempts on a contended bucket before the frame is dropped as over the limit. */
#define BUCKET_CAS_TRIES 4

struct frame {
	void *l3;       /* first byte after the Ethernet header and VLAN tags */
	void *data_end;
	__u16 ethertype; /* host order, after VLAN tags */
};

static __always_inline int parse_ethernet(struct xdp_md *ctx, struct frame *f, struct x0_mac_key *src)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(src->mac, eth->h_source, ETH_ALEN);
	src->pad = 0;
	__be16 proto = eth->h_proto;
	void *cursor = eth + 1;
#pragma unroll
	for (int i = 0; i < X0_VLAN_DEPTH_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_tag *tag = cursor;
		if ((void *)(tag + 1) > data_end)
			return -1;
		proto = tag->encapsulated_proto;
		cursor = tag + 1;
	}
	f->l3 = cursor;
	f->data_end = data_end;
	f->ethertype = bpf_ntohs(proto);
	return 0;
}

/* UDP destination port (host order), or -1 for anything else, including non-first IPv4 fragments. IPv6
 * extension headers are not walked: only a UDP header right after the fixed header counts. */
static __always_inline int udp_dport(const struct frame *f)
{
	struct udphdr *udp;

	if (f->ethertype == ETH_P_IP) {
		struct iphdr *ip = f->l3;
		if ((void *)(ip + 1) > f->data_end || ip->protocol != IPPROTO_UDP)
			return -1;
		if (ip->frag_off & bpf_htons(0x1fff)) /* fragment offset: no UDP header here */
			return -1;
		__u32 ihl = ip->ihl & 0xf;
		if (ihl < 5)
			return -1;
		udp = (void *)ip + ihl * 4;
	} else if (f->ethertype == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = f->l3;
		if ((void *)(ip6 + 1) > f->data_end || ip6->nexthdr != IPPROTO_UDP)
			return -1;
		udp = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if ((void *)(udp + 1) > f->data_end)
		return -1;
	return bpf_ntohs(udp->dest);
}

static __always_inline int blocked(struct x0_mac_key *src, __u64 *expired)
{
	struct x0_block *entry = bpf_map_lookup_elem(&x0_blocklist, src);

	if (!entry)
		return 0;
	if (entry->expires_ns != 0 && bpf_ktime_get_ns() >= entry->expires_ns) {
		bpf_map_delete_elem(&x0_blocklist, src);
		*expired = 1;
		return 0;
	}
	__sync_fetch_and_add(&entry->drops, 1);
	return 1;
}

/* GCRA: a frame conforms when its bucket's theoretical arrival time is at most tolerance ahead of now; a
 * conforming frame moves it one interval further. A new bucket starts full (burst frames at once). */
static __always_inline int bucket_allows(const struct x0_mac_key *src, __u32 index, const struct x0_rule *rule)
{
	struct x0_bucket_key key = { .rule = (__u8)index, .generation = rule->generation };
	__u64 now = bpf_ktime_get_ns();

	__builtin_memcpy(key.mac, src->mac, ETH_ALEN);
	struct x0_bucket *bucket = bpf_map_lookup_elem(&x0_buckets, &key);
	if (!bucket) {
		struct x0_bucket fresh = { .tat_ns = now + rule->interval_ns };
		if (bpf_map_update_elem(&x0_buckets, &key, &fresh, BPF_NOEXIST) == 0)
			return 1;
		bucket = bpf_map_lookup_elem(&x0_buckets, &key); /* another CPU created it first */
		if (!bucket)
			return 0;
	}
#pragma unroll
	for (int i = 0; i < BUCKET_CAS_TRIES; i++) {
		__u64 old = bucket->tat_ns;
		__u64 tat = old > now ? old : now;
		if (tat - now > rule->tolerance_ns)
			return 0;
		if (__sync_val_compare_and_swap(&bucket->tat_ns, old, tat + rule->interval_ns) == old)
			return 1;
	}
	return 0;
}

static __always_inline int rule_matches(const struct x0_rule *rule, __u16 ethertype, int dport)
{
	if (rule->match == X0_MATCH_ETHERTYPE)
		return rule->ethertype == ethertype;
	if (rule->match == X0_MATCH_UDP_DPORT)
		return dport >= 0 && dport >= rule->port_lo && dport <= rule->port_hi;
	return 0;
}

static __always_inline int rate_limited(const struct x0_config *config, const struct x0_mac_key *src,
					const struct frame *f)
{
	if (config->rule_count == 0)
		return 0;
	int dport = (config->flags & X0_CONFIG_HAS_UDP) ? udp_dport(f) : -1;
#pragma unroll
	for (__u32 i = 0; i < X0_RULES_MAX; i++) {
		if (i >= config->rule_count)
			break;
		const struct x0_rule *rule = &config->rules[i];
		if (!rule_matches(rule, f->ethertype, dport))
			continue;
		struct x0_rule_stats *stats = bpf_map_lookup_elem(&x0_rule_stats, &i);
		int allowed = bucket_allows(src, i, rule);
		if (stats) {
			stats->matched++;
			stats->dropped += !allowed;
		}
		return !allowed;
	}
	return 0;
}

static __always_inline struct x0_source *source_counters(const struct x0_mac_key *src)
{
	struct x0_source *counters = bpf_map_lookup_elem(&x0_counters, src);

	if (counters)
		return counters;
	struct x0_source fresh = {};
	bpf_map_update_elem(&x0_counters, src, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&x0_counters, src);
}

static __always_inline void count(const struct x0_mac_key *src, __u64 bytes, int batman, enum verdict verdict,
				  __u64 expired)
{
	__u32 zero = 0;
	struct x0_totals *totals = bpf_map_lookup_elem(&x0_totals, &zero);
	struct x0_source *counters = source_counters(src);

	if (counters) {
		counters->packets++;
		counters->bytes += bytes;
		counters->batman_packets += batman;
		counters->dropped_blocked += verdict == DROP_BLOCKED;
		counters->dropped_rate += verdict == DROP_RATE;
		counters->last_seen_ns = bpf_ktime_get_coarse_ns();
	}
	if (!totals)
		return;
	totals->packets++;
	totals->bytes += bytes;
	totals->batman_packets += batman;
	totals->passed += verdict == PASS;
	totals->dropped_blocked += verdict == DROP_BLOCKED;
	totals->dropped_rate += verdict == DROP_RATE;
	totals->counters_full += !counters;
	totals->blocks_expired += expired;
}

SEC("xdp")
int x0_xdp(struct xdp_md *ctx)
{
	struct x0_mac_key src;
	struct frame f;
	__u64 expired = 0;

	if (parse_ethernet(ctx, &f, &src) < 0) {
		__u32 zero = 0;
		struct x0_totals *totals = bpf_map_lookup_elem(&x0_totals, &zero);
		if (totals) {
			totals->malformed++;
			totals->passed++;
		}
		return XDP_PASS; /* not ours to judge: the stack drops runts itself */
	}
	__u64 bytes = (__u64)(ctx->data_end - ctx->data);
	enum verdict verdict = PASS;
	__u32 zero = 0;
	struct x0_config *config = bpf_map_lookup_elem(&x0_config, &zero);
	if (!config)
		return XDP_PASS; /* cannot happen: an array always has its one entry */
	if ((config->flags & X0_CONFIG_HAS_BLOCKS) && blocked(&src, &expired))
		verdict = DROP_BLOCKED;
	else if (rate_limited(config, &src, &f))
		verdict = DROP_RATE;
	count(&src, bytes, f.ethertype == X0_ETH_P_BATMAN, verdict, expired);
	return verdict == PASS ? XDP_PASS : XDP_DROP;
}
