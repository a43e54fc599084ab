// SPDX-License-Identifier: GPL-2.0
/* Benchmark traffic source for x0-xdp-gen blast: run with BPF_PROG_RUN in live-frames mode, it sends each
 * frame out of the test run's ingress interface (XDP_TX becomes a redirect there), so a veth peer receives
 * xdp_frames exactly as a NIC driver hands them to XDP, without an skb. It spreads frames over `sources`
 * source MACs by rewriting the MAC's last byte. Not shipped (built into build/xdp-tools/). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); /* [0]: number of source MACs, [1]: frames sent so far */
	__type(key, __u32);
	__type(value, __u32);
} gen_state SEC(".maps");

SEC("xdp")
int x0_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, one = 1;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__u32 *sources = bpf_map_lookup_elem(&gen_state, &zero);
	__u32 *seq = bpf_map_lookup_elem(&gen_state, &one);
	if (sources && seq && *sources > 1) {
		eth->h_source[5] = (__u8)(*seq % *sources + 1);
		*seq += 1;
	}
	return XDP_TX;
}
