// SPDX-License-Identifier: GPL-2.0
/* x0-xdp-gen: real frames for the XDP tests and benchmark (test/xdp/run.sh, bench/xdp.bench.sh). Not shipped.
 *   send IFACE --src MAC[,MAC...] --count N [--dst MAC] [--ethertype T | --udp-port P] [--pps R] [--size B]
 *        N frames per source MAC through an AF_PACKET socket, interleaved, paced at R frames/s in total;
 *        prints {"sent":TOTAL,"elapsed_ns":NS,"retries":N}.
 *   count IFACE --seconds S [--ready FILE]
 *        counts frames received on IFACE (after XDP) per source MAC until S seconds pass or SIGTERM;
 *        prints {"total":N,"received":{"MAC":N,...},"overflow":N}.
 *   blast IFACE --obj GEN.o --seconds S --src MAC --dst MAC [--sources K] [--udp-port P] [--size B]
 *        as many frames as the machine can make for S seconds with BPF_PROG_RUN in live-frames mode (out of
 *        IFACE as xdp_frames: the veth peer sees what a NIC driver would give XDP); prints {"frames":N,...}.
 *   runtime --prog PINNED-PROG --src MAC [--repeat N]
 *        runs a pinned XDP program N times (default 1000000) on one frame with BPF_PROG_TEST_RUN and prints the
 *        kernel's average time per run: {"ns_per_run":NS,"retval":XDP_ACTION}.
 * Exit 0 on success, 1 when a call fails (the message names it), 2 on bad usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define SOURCES_MAX 64
#define COUNT_MACS_MAX 256
#define FRAME_BYTES_MAX 1514
#define ENOBUFS_RETRIES_MAX 10000
#define BLAST_CHUNK 1000000

struct options {
	const char *iface, *src, *dst, *ready, *obj;
	long count, pps, size, seconds, ethertype, udp_port, sources, repeat;
	const char *prog;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what)
{
	fprintf(stderr, "x0-xdp-gen: %s: %s\n", what, strerror(errno));
	return 1;
}

static int usage(const char *message)
{
	fprintf(stderr, "x0-xdp-gen: %s\nusage: x0-xdp-gen send|count|blast IFACE [options] | runtime [options] (see the comment at the top of "
			"bpf/tools/x0-xdp-gen.c)\n", message);
	return 2;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int parse_mac(const char *text, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->dst = "ff:ff:ff:ff:ff:ff";
	o->ethertype = 0x88b5; /* IEEE 802 local experimental */
	o->size = 64;
	o->sources = 1;
	o->repeat = 1000000;
	/* runtime takes no interface */
	int first = argc >= 2 && !strcmp(argv[1], "runtime") ? 2 : 3;
	if (argc < first)
		return -1;
	o->iface = first == 3 ? argv[2] : "";
	for (int i = first; i + 1 < argc; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];
		long number = strtol(value, NULL, 0);
		if (!strcmp(name, "--src")) o->src = value;
		else if (!strcmp(name, "--dst")) o->dst = value;
		else if (!strcmp(name, "--ready")) o->ready = value;
		else if (!strcmp(name, "--obj")) o->obj = value;
		else if (!strcmp(name, "--count")) o->count = number;
		else if (!strcmp(name, "--pps")) o->pps = number;
		else if (!strcmp(name, "--size")) o->size = number;
		else if (!strcmp(name, "--seconds")) o->seconds = number;
		else if (!strcmp(name, "--ethertype")) o->ethertype = number;
		else if (!strcmp(name, "--udp-port")) o->udp_port = number;
		else if (!strcmp(name, "--sources")) o->sources = number;
		else if (!strcmp(name, "--prog")) o->prog = value;
		else if (!strcmp(name, "--repeat")) o->repeat = number;
		else return -1;
	}
	if ((argc - first) % 2 || o->size < 60 || o->size > FRAME_BYTES_MAX || o->sources < 1 || o->sources > 250)
		return -1;
	return 0;
}

static unsigned short ip_checksum(const void *header, int bytes)
{
	const unsigned short *word = header;
	unsigned int sum = 0;

	for (int i = 0; i < bytes / 2; i++)
		sum += word[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

/* One frame: Ethernet + (IPv4/UDP to 10.77.0.2:udp_port | payload of the given ethertype), padded to size. */
static int build_frame(const struct options *o, const unsigned char src[6], unsigned char *frame)
{
	struct ethhdr *eth = (struct ethhdr *)frame;

	memset(frame, 0, (size_t)o->size);
	if (parse_mac(o->dst, eth->h_dest) < 0)
		return -1;
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons((unsigned short)(o->udp_port ? ETH_P_IP : o->ethertype));
	if (!o->udp_port)
		return 0;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	int ip_bytes = (int)o->size - (int)sizeof(*eth);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((unsigned short)ip_bytes);
	ip->saddr = htonl(0x0a4d0001); /* 10.77.0.1 */
	ip->daddr = htonl(0x0a4d0002); /* 10.77.0.2 */
	ip->check = ip_checksum(ip, sizeof(*ip));
	udp->source = htons(40000);
	udp->dest = htons((unsigned short)o->udp_port);
	udp->len = htons((unsigned short)(ip_bytes - (int)sizeof(*ip)));
	return 0;
}

static int parse_sources(const char *list, unsigned char macs[SOURCES_MAX][6])
{
	char buf[SOURCES_MAX * 18];
	int n = 0;

	if (!list || strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == SOURCES_MAX || parse_mac(tok, macs[n]) < 0)
			return -1;
		n++;
	}
	return n;
}

static int packet_socket(const char *iface, int protocol, int *ifindex)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = (unsigned short)protocol };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);

	*ifindex = (int)if_nametoindex(iface);
	if (*ifindex == 0) {
		fprintf(stderr, "x0-xdp-gen: no such interface '%s'\n", iface);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0)
		return die("socket(AF_PACKET)"), -1;
	addr.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return die("bind(AF_PACKET)"), -1;
	}
	return fd;
}

/* Sends one frame; ENOBUFS (the veth peer's ring is full) is retried after a short pause, never dropped. */
static int send_frame(int fd, const unsigned char *frame, size_t bytes, long *retries)
{
	for (int i = 0; i < ENOBUFS_RETRIES_MAX; i++) {
		if (send(fd, frame, bytes, 0) == (ssize_t)bytes)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN)
			return die("send"), -1;
		(*retries)++;
		usleep(200);
	}
	fprintf(stderr, "x0-xdp-gen: send: ENOBUFS %d times in a row\n", ENOBUFS_RETRIES_MAX);
	return -1;
}

static int cmd_send(const struct options *o)
{
	unsigned char macs[SOURCES_MAX][6], frames[SOURCES_MAX][FRAME_BYTES_MAX];
	int n = parse_sources(o->src, macs), ifindex;
	long retries = 0, total = 0;

	if (n <= 0 || o->count <= 0)
		return usage("send needs --src MAC[,MAC...] and --count N > 0");
	for (int i = 0; i < n; i++)
		if (build_frame(o, macs[i], frames[i]) < 0)
			return usage("bad --dst MAC");
	int fd = packet_socket(o->iface, 0, &ifindex);
	if (fd < 0)
		return 1;
	unsigned long long start = now_ns(), gap = o->pps > 0 ? 1000000000ull / (unsigned long long)o->pps : 0;
	for (long k = 0; k < o->count; k++) {
		for (int i = 0; i < n; i++, total++) {
			if (gap) {
				unsigned long long due = start + (unsigned long long)total * gap;
				struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull) };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
			if (send_frame(fd, frames[i], (size_t)o->size, &retries) < 0)
				return 1;
		}
	}
	printf("{\"sent\":%ld,\"elapsed_ns\":%llu,\"retries\":%ld}\n", total, now_ns() - start, retries);
	close(fd);
	return 0;
}

struct tally {
	unsigned char mac[COUNT_MACS_MAX][6];
	long frames[COUNT_MACS_MAX];
	int used;
	long total, overflow;
};

static void tally_add(struct tally *t, const unsigned char mac[6])
{
	t->total++;
	for (int i = 0; i < t->used; i++) {
		if (!memcmp(t->mac[i], mac, 6)) {
			t->frames[i]++;
			return;
		}
	}
	if (t->used == COUNT_MACS_MAX) {
		t->overflow++;
		return;
	}
	memcpy(t->mac[t->used], mac, 6);
	t->frames[t->used++] = 1;
}

static int cmd_count(const struct options *o)
{
	static struct tally t;
	unsigned char frame[FRAME_BYTES_MAX + 64];
	int ifindex, bufsize = 8 << 20;

	if (o->seconds <= 0)
		return usage("count needs --seconds S > 0");
	int fd = packet_socket(o->iface, htons(ETH_P_ALL), &ifindex);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (o->ready) {
		int ready = open(o->ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (ready < 0)
			return die("open(--ready)");
		close(ready);
	}
	unsigned long long end = now_ns() + (unsigned long long)o->seconds * 1000000000ull;
	while (!stop && now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, frame, sizeof(frame), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
		if (n >= (ssize_t)sizeof(struct ethhdr) && from.sll_pkttype != PACKET_OUTGOING)
			tally_add(&t, ((struct ethhdr *)frame)->h_source);
	}
	printf("{\"total\":%ld,\"overflow\":%ld,\"received\":{", t.total, t.overflow);
	for (int i = 0; i < t.used; i++)
		printf("%s\"%02x:%02x:%02x:%02x:%02x:%02x\":%ld", i ? "," : "", t.mac[i][0], t.mac[i][1], t.mac[i][2],
		       t.mac[i][3], t.mac[i][4], t.mac[i][5], t.frames[i]);
	puts("}}");
	close(fd);
	return 0;
}

static int cmd_blast(const struct options *o)
{
	unsigned char src[6], frame[FRAME_BYTES_MAX];
	struct bpf_object *obj;
	int ifindex = (int)if_nametoindex(o->iface);

	if (!o->obj || o->seconds <= 0 || !o->src || parse_mac(o->src, src) < 0 || build_frame(o, src, frame) < 0)
		return usage("blast needs --obj GEN.o --seconds S --src MAC (and a valid --dst)");
	if (!ifindex)
		return fprintf(stderr, "x0-xdp-gen: no such interface '%s'\n", o->iface), 1;
	obj = bpf_object__open_file(o->obj, NULL);
	if (!obj || bpf_object__load(obj) < 0)
		return die("loading --obj");
	int prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "x0_gen"));
	int state_fd = bpf_object__find_map_fd_by_name(obj, "gen_state");
	__u32 zero = 0, sources = (__u32)o->sources;
	if (prog_fd < 0 || state_fd < 0 || bpf_map_update_elem(state_fd, &zero, &sources, BPF_ANY) < 0)
		return die("setting up x0_gen");
	struct xdp_md ctx = { .data_end = (__u32)o->size, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = (__u32)o->size, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 256);
	unsigned long long start = now_ns(), end = start + (unsigned long long)o->seconds * 1000000000ull;
	long long frames = 0;
	/* Small chunks first so short runs stop on time; BPF_PROG_RUN cannot be interrupted mid-chunk. */
	for (__u32 chunk = 10000; now_ns() < end; chunk = chunk < BLAST_CHUNK ? chunk * 4 : BLAST_CHUNK) {
		unsigned long long left = end - now_ns(), spent = now_ns() - start;
		if (frames > 0 && spent > 0 && (unsigned long long)frames * left / spent < chunk)
			chunk = (__u32)((unsigned long long)frames * left / spent) + 1;
		run.repeat = chunk;
		if (bpf_prog_test_run_opts(prog_fd, &run) < 0)
			return die("bpf_prog_test_run_opts(live frames)");
		frames += chunk;
	}
	printf("{\"frames\":%lld,\"elapsed_ns\":%llu}\n", frames, now_ns() - start);
	bpf_object__close(obj);
	return 0;
}

static int cmd_runtime(const struct options *o)
{
	unsigned char src[6], frame[FRAME_BYTES_MAX];

	if (!o->prog || !o->src || parse_mac(o->src, src) < 0 || build_frame(o, src, frame) < 0 || o->repeat < 1)
		return usage("runtime needs --prog PINNED-PROG --src MAC [--repeat N]");
	int fd = bpf_obj_get(o->prog);
	if (fd < 0)
		return die("bpf_obj_get(--prog)");
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = (__u32)o->size, .repeat = (int)o->repeat);
	if (bpf_prog_test_run_opts(fd, &run) < 0)
		return die("bpf_prog_test_run_opts");
	printf("{\"ns_per_run\":%u,\"retval\":%u}\n", run.duration, run.retval);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || parse_options(argc, argv, &o) < 0)
		return usage("bad arguments");
	if (!strcmp(argv[1], "send"))
		return cmd_send(&o);
	if (!strcmp(argv[1], "count"))
		return cmd_count(&o);
	if (!strcmp(argv[1], "blast"))
		return cmd_blast(&o);
	if (!strcmp(argv[1], "runtime"))
		return cmd_runtime(&o);
	return usage("unknown command");
}
