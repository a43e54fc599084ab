// SPDX-License-Identifier: GPL-2.0
/* A program the verifier must reject (it reads the frame without checking data_end), named like the real one
 * so `x0-xdp --obj` loads it in its place: test/xdp/run.sh checks the helper's verifier-rejection path. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int x0_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	return data[20] == 1 ? XDP_DROP : XDP_PASS;
}
