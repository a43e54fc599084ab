// SPDX-License-Identifier: GPL-2.0
/* x0-xdp: loads x0tta6bl4's XDP program (x0_xdp.bpf.c), attaches it to interfaces and edits its maps.
 * Everything lives pinned in bpffs under one directory (default /sys/fs/bpf/x0tta6bl4), so the data plane and
 * its state survive this helper and the agent restarting; each run is short and stateless. With --json every
 * command prints one JSON object on stdout (errors too: {"ok":false,"error":CODE,...}); that is the agent's
 * interface (src/xdp/). Exit codes are listed in usage() and bpf/README.md. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "x0_xdp.h"
#include "x0_xdp.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef X0_VERSION
#define X0_VERSION "dev"
#endif

#define BPFFS_ROOT "/sys/fs/bpf"
#define PIN_DIR_DEFAULT BPFFS_ROOT "/x0tta6bl4"
#define PROG_NAME "x0_xdp"
#define PROG_PIN "prog"
#define LINK_PIN_PREFIX "link_" /* + interface name; bpffs refuses dots in names */
#define VERIFIER_LOG_BYTES (1u << 20)
#define LOCK_WAIT_MS 5000
#define TTL_SECONDS_MAX 31536000ull /* one year */
#define RATE_PPS_MAX 10000000ull
#define BURST_MAX 1000000ull
#define PIN_ENTRIES_MAX 256 /* files examined in the pin directory (maps, prog, links) */
#define ARGS_POSITIONAL_MAX 4

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_PERMITTED = 3,
	EXIT_NO_BPFFS = 4,
	EXIT_UNKNOWN_IFACE = 5,
	EXIT_VERIFIER = 6,
	EXIT_BUSY = 7,
	EXIT_NOT_LOADED = 8,
	EXIT_NO_BPF = 9,
	EXIT_FULL = 10,
	EXIT_MODE = 11,
	EXIT_LOCKED = 12,
};

/* Stable reason codes, indexed by exit code: the JSON "error" field. */
static const char *const error_codes[] = {
	"ok", "failed", "usage", "not-permitted", "bpffs-not-mounted", "unknown-interface", "verifier-rejected",
	"interface-busy", "not-loaded", "bpf-unavailable", "map-full", "mode-unsupported", "locked",
};

struct ctx {
	const char *pin_dir;
	const char *obj_path; /* NULL: the object built into this binary */
	int json;
	int verbose;
	int mount;   /* --mount: mount bpffs at /sys/fs/bpf when it is missing */
	int lock_fd; /* flock on the pin directory, held by commands that change state */
};

struct args {
	int npos;
	const char *pos[ARGS_POSITIONAL_MAX];
	const char *mode, *ttl, *reason, *ethertype, *udp_ports, *rate, *burst;
};

static int verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Our own messages name the failed call; libbpf's (and its copy of the verifier log) only with -v. */
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- output ------------------------------------------------------------------------------------------- */

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_error(int code, const char *message, const char *verifier_log)
{
	printf("{\"ok\":false,\"error\":\"%s\",\"exit\":%d,\"message\":", error_codes[code], code);
	json_string(message);
	if (verifier_log) {
		fputs(",\"verifier_log\":", stdout);
		json_string(verifier_log);
	}
	puts("}");
}

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, int code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "x0-xdp: %s\n", message);
	if (c->json)
		json_error(code, message, NULL);
	return code;
}

static void format_mac(const __u8 mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* ---- argument parsing --------------------------------------------------------------------------------- */

static int parse_u64(const char *text, __u64 min, __u64 max, __u64 *out)
{
	char *end;

	if (!text || !*text || *text == '-' || *text == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_mac(const char *text, __u8 mac[6])
{
	unsigned int b[6];
	char sep = text[2];
	int n = 0;

	if (strlen(text) != 17 || (sep != ':' && sep != '-'))
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		if (i < 5 && p[2] != sep)
			return -1;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -1;
		if (sscanf(p, "%2x", &b[i]) == 1)
			n++;
	}
	if (n != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

static int parse_ports(const char *text, __u16 *lo, __u16 *hi)
{
	char buf[32];
	__u64 a, b;

	if (!text || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	char *dash = strchr(buf, '-');
	if (dash)
		*dash = 0;
	if (parse_u64(buf, 1, 65535, &a) < 0)
		return -1;
	b = a;
	if (dash && parse_u64(dash + 1, 1, 65535, &b) < 0)
		return -1;
	if (b < a)
		return -1;
	*lo = (__u16)a;
	*hi = (__u16)b;
	return 0;
}

static int reason_valid(const char *reason)
{
	size_t n = strlen(reason);

	if (n == 0 || n >= X0_REASON_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = reason[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return 0;
	}
	return 1;
}

struct option_slot {
	const char *name;
	size_t offset;
};

static const struct option_slot option_slots[] = {
	{ "mode", offsetof(struct args, mode) },
	{ "ttl", offsetof(struct args, ttl) },
	{ "reason", offsetof(struct args, reason) },
	{ "ethertype", offsetof(struct args, ethertype) },
	{ "udp-ports", offsetof(struct args, udp_ports) },
	{ "rate", offsetof(struct args, rate) },
	{ "burst", offsetof(struct args, burst) },
};

/* Fills a from argv: positionals, and --name VALUE / --name=VALUE for the names in allowed (space separated). */
static int parse_args(struct ctx *c, int argc, char **argv, const char *allowed, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			if (a->npos == ARGS_POSITIONAL_MAX)
				return fail(c, EXIT_USAGE, "too many arguments (at '%s'); see --help", arg);
			a->pos[a->npos++] = arg;
			continue;
		}
		char name[32];
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (len == 0 || len >= sizeof(name))
			return fail(c, EXIT_USAGE, "bad option '%s'; see --help", arg);
		memcpy(name, arg + 2, len);
		name[len] = 0;
		const struct option_slot *slot = NULL;
		for (size_t k = 0; k < sizeof(option_slots) / sizeof(option_slots[0]); k++)
			if (strcmp(option_slots[k].name, name) == 0)
				slot = &option_slots[k];
		char padded[40];
		snprintf(padded, sizeof(padded), " %s ", name);
		char haystack[128];
		snprintf(haystack, sizeof(haystack), " %s ", allowed);
		if (!slot || !strstr(haystack, padded))
			return fail(c, EXIT_USAGE, "unknown option --%s for this command; see --help", name);
		const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!value)
			return fail(c, EXIT_USAGE, "--%s needs a value", name);
		*(const char **)((char *)a + slot->offset) = value;
	}
	return EXIT_OK;
}

/* ---- environment: capabilities, bpffs, lock ------------------------------------------------------------ */

static int has_cap(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) < 0)
		return 0;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

static int need_caps(struct ctx *c, int net_admin)
{
	int bpf = has_cap(CAP_BPF) || has_cap(CAP_SYS_ADMIN);
	int net = !net_admin || has_cap(CAP_NET_ADMIN);

	if (bpf && net)
		return EXIT_OK;
	return fail(c, EXIT_NOT_PERMITTED, "permission denied: x0-xdp needs root (CAP_BPF%s, or CAP_SYS_ADMIN); run it as root",
		    net_admin ? " and CAP_NET_ADMIN" : "");
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == (typeof(st.f_type))BPF_FS_MAGIC;
}

static int mount_bpffs(struct ctx *c, int *already)
{
	*already = is_bpffs(BPFFS_ROOT);
	if (*already)
		return EXIT_OK;
	if (!has_cap(CAP_SYS_ADMIN))
		return fail(c, EXIT_NOT_PERMITTED, "mounting bpffs needs root (CAP_SYS_ADMIN)");
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
		return fail(c, EXIT_FAILED, "mount(bpf, %s): %s", BPFFS_ROOT, strerror(errno));
	return EXIT_OK;
}

/* The pin directory must be on bpffs: checked on the directory if it exists, else on its parent. */
static int need_bpffs(struct ctx *c)
{
	char parent[PATH_MAX];
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", c->pin_dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	const char *probe = stat(c->pin_dir, &st) == 0 ? c->pin_dir : parent;
	if (is_bpffs(probe))
		return EXIT_OK;
	if (c->mount && strcmp(parent, BPFFS_ROOT) == 0) {
		int already, rc = mount_bpffs(c, &already);
		if (rc != EXIT_OK || is_bpffs(BPFFS_ROOT))
			return rc;
	}
	return fail(c, EXIT_NO_BPFFS,
		    "bpffs is not mounted at %s, so nothing can be pinned there; mount it with `x0-xdp mount` "
		    "(or `mount -t bpf bpf %s`), or add --mount to this command",
		    parent, BPFFS_ROOT);
}

static int lock_pin_dir(struct ctx *c)
{
	if (mkdir(c->pin_dir, 0700) < 0 && errno != EEXIST)
		return fail(c, EXIT_FAILED, "mkdir(%s): %s", c->pin_dir, strerror(errno));
	c->lock_fd = open(c->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0)
		return fail(c, EXIT_FAILED, "open(%s): %s", c->pin_dir, strerror(errno));
	/* Another x0-xdp changing state holds it; the kernel drops the lock if that one is killed. */
	for (int waited = 0; waited < LOCK_WAIT_MS; waited += 10) {
		if (flock(c->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return EXIT_OK;
		if (errno != EWOULDBLOCK)
			return fail(c, EXIT_FAILED, "flock(%s): %s", c->pin_dir, strerror(errno));
		usleep(10000);
	}
	return fail(c, EXIT_LOCKED, "another x0-xdp has held %s for %d ms; try again", c->pin_dir, LOCK_WAIT_MS);
}

/* Fault injection for the crash tests (test/xdp/run.sh): X0_XDP_FAULT names a point where this process dies
 * by SIGKILL ("kill-...") or waits to be killed from outside ("hang-..."). */
static void fault_point(const char *name)
{
	const char *want = getenv("X0_XDP_FAULT");

	if (!want || strcmp(want, name) != 0)
		return;
	fprintf(stderr, "x0-xdp: fault point %s reached (pid %d)\n", name, getpid());
	if (strncmp(name, "hang-", 5) == 0) {
		for (int i = 0; i < 60; i++)
			sleep(1);
	}
	raise(SIGKILL);
}

/* ---- the object and its pinned state ------------------------------------------------------------------ */

static void pin_path(const struct ctx *c, const char *name, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%s", c->pin_dir, name);
}

static struct bpf_object *open_object(struct ctx *c, int pinned)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = c->pin_dir, .object_name = PROG_NAME);
	struct bpf_object *obj;
	struct bpf_map *map;

	if (c->obj_path) {
		obj = bpf_object__open_file(c->obj_path, &opts);
	} else {
		size_t size = 0;
		const void *bytes = x0_xdp__elf_bytes(&size);
		obj = bpf_object__open_mem(bytes, size, &opts);
	}
	if (!obj) {
		fail(c, EXIT_FAILED, "bpf_object__open(%s): %s", c->obj_path ? c->obj_path : "built-in object",
		     strerror(errno));
		return NULL;
	}
	if (!pinned)
		bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, NULL);
	return obj;
}

/* Loads obj into the kernel. On failure returns the exit code after saying why (with the verifier's log). */
static int load_object(struct ctx *c, struct bpf_object *obj, struct bpf_program **out)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, PROG_NAME);

	if (!prog)
		return fail(c, EXIT_FAILED, "the BPF object has no program named '%s'", PROG_NAME);
	char *log = calloc(1, VERIFIER_LOG_BYTES);
	if (!log)
		return fail(c, EXIT_FAILED, "calloc(%u): %s", VERIFIER_LOG_BYTES, strerror(errno));
	/* Log level 0 with a buffer: libbpf asks the kernel for the log only if the first load fails. */
	bpf_program__set_log_buf(prog, log, VERIFIER_LOG_BYTES);
	int err = bpf_object__load(obj);
	if (err == 0) {
		free(log);
		*out = prog;
		return EXIT_OK;
	}
	int code;
	err = -err;
	if (log[0]) {
		char message[256];
		snprintf(message, sizeof(message), "the kernel's verifier rejected program '%s' (bpf_object__load: %s)",
			 PROG_NAME, strerror(err));
		fprintf(stderr, "x0-xdp: %s; verifier log:\n%s\n", message, log);
		if (c->json)
			json_error(EXIT_VERIFIER, message, log);
		code = EXIT_VERIFIER;
	} else if (err == EPERM || err == ENOSYS || err == EOPNOTSUPP) {
		code = fail(c, EXIT_NO_BPF, "the kernel refused to load BPF (bpf_object__load: %s); BPF may be disabled "
			    "or restricted here (lockdown, seccomp, a container)", strerror(err));
	} else if (err == EINVAL && c->pin_dir) {
		code = fail(c, EXIT_FAILED, "bpf_object__load: %s; if the pinned maps under %s come from an older "
			    "x0-xdp with another layout, run `x0-xdp purge` and attach again", strerror(err), c->pin_dir);
	} else {
		code = fail(c, EXIT_FAILED, "bpf_object__load: %s", strerror(err));
	}
	free(log);
	return code;
}

static int prog_id_of(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Returns a file descriptor of the pinned program, loading and pinning it (and its maps) first if needed. */
static int ensure_loaded(struct ctx *c, int *prog_fd)
{
	char path[PATH_MAX];
	struct bpf_program *prog;

	pin_path(c, PROG_PIN, path);
	*prog_fd = bpf_obj_get(path);
	if (*prog_fd >= 0)
		return EXIT_OK;
	if (errno != ENOENT)
		return fail(c, EXIT_FAILED, "bpf_obj_get(%s): %s", path, strerror(errno));
	struct bpf_object *obj = open_object(c, 1);
	if (!obj)
		return EXIT_FAILED;
	int rc = load_object(c, obj, &prog);
	if (rc == EXIT_OK) {
		fault_point("kill-after-load");
		if (bpf_program__pin(prog, path) < 0)
			rc = fail(c, EXIT_FAILED, "bpf_program__pin(%s): %s", path, strerror(errno));
		else if ((*prog_fd = dup(bpf_program__fd(prog))) < 0)
			rc = fail(c, EXIT_FAILED, "dup: %s", strerror(errno));
	}
	bpf_object__close(obj);
	return rc;
}

static int open_map(struct ctx *c, const char *name, int *fd)
{
	char path[PATH_MAX];

	pin_path(c, name, path);
	*fd = bpf_obj_get(path);
	if (*fd >= 0)
		return EXIT_OK;
	if (errno == ENOENT)
		return fail(c, EXIT_NOT_LOADED, "nothing is loaded under %s (no %s): run `x0-xdp attach IFACE` first",
			    c->pin_dir, name);
	return fail(c, EXIT_FAILED, "bpf_obj_get(%s): %s", path, strerror(errno));
}

static int loaded(const struct ctx *c)
{
	char path[PATH_MAX];

	pin_path(c, PROG_PIN, path);
	return access(path, F_OK) == 0;
}

/* ---- per-CPU values ----------------------------------------------------------------------------------- */

static int possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

static void sum_sources(const struct x0_source *per_cpu, int ncpu, struct x0_source *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpu; i++) {
		out->packets += per_cpu[i].packets;
		out->bytes += per_cpu[i].bytes;
		out->dropped_blocked += per_cpu[i].dropped_blocked;
		out->dropped_rate += per_cpu[i].dropped_rate;
		out->batman_packets += per_cpu[i].batman_packets;
		if (per_cpu[i].last_seen_ns > out->last_seen_ns)
			out->last_seen_ns = per_cpu[i].last_seen_ns;
	}
}

static int read_totals(struct ctx *c, int fd, struct x0_totals *out)
{
	int ncpu = possible_cpus();
	struct x0_totals *per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (!per_cpu)
		return fail(c, EXIT_FAILED, "calloc: %s", strerror(errno));
	if (bpf_map_lookup_elem(fd, &zero, per_cpu) < 0) {
		free(per_cpu);
		return fail(c, EXIT_FAILED, "bpf_map_lookup_elem(x0_totals): %s", strerror(errno));
	}
	for (int i = 0; i < ncpu; i++) {
		__u64 *sum = (__u64 *)out;
		const __u64 *add = (const __u64 *)&per_cpu[i];
		for (size_t k = 0; k < sizeof(*out) / sizeof(__u64); k++)
			sum[k] += add[k];
	}
	free(per_cpu);
	return EXIT_OK;
}

static int read_rule_stats(int fd, __u32 index, struct x0_rule_stats *out)
{
	int ncpu = possible_cpus();
	struct x0_rule_stats *per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));

	memset(out, 0, sizeof(*out));
	if (!per_cpu)
		return -1;
	int rc = bpf_map_lookup_elem(fd, &index, per_cpu);
	for (int i = 0; rc == 0 && i < ncpu; i++) {
		out->matched += per_cpu[i].matched;
		out->dropped += per_cpu[i].dropped;
	}
	free(per_cpu);
	return rc;
}

static int zero_rule_stats(int fd, __u32 index)
{
	int ncpu = possible_cpus();
	struct x0_rule_stats *zeros = calloc((size_t)ncpu, sizeof(*zeros));

	if (!zeros)
		return -1;
	int rc = bpf_map_update_elem(fd, &index, zeros, BPF_ANY);
	free(zeros);
	return rc;
}

/* ---- interfaces and links ----------------------------------------------------------------------------- */

static const char *attach_mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

static int resolve_iface(struct ctx *c, const char *ifname, int *ifindex)
{
	if (strlen(ifname) >= IF_NAMESIZE)
		return fail(c, EXIT_UNKNOWN_IFACE, "no such interface '%s' (names are at most %d characters)", ifname,
			    IF_NAMESIZE - 1);
	*ifindex = (int)if_nametoindex(ifname);
	if (*ifindex == 0)
		return fail(c, EXIT_UNKNOWN_IFACE, "no such interface '%s' in this network namespace (see `ip link`)",
			    ifname);
	return EXIT_OK;
}

struct link_pin {
	char name[NAME_MAX + 1]; /* file name under the pin directory */
	char ifname[IF_NAMESIZE];
	int fd;
	__u32 link_id;
	__u32 prog_id;
	__u32 ifindex; /* 0: the interface is gone (defunct link) */
};

/* Calls visit for every link_* pin. The file name carries the interface name at attach time; the link itself
 * knows the ifindex, which is what matches (an interface may have been renamed since). */
static int for_each_link(struct ctx *c, int (*visit)(struct ctx *, struct link_pin *, void *), void *arg)
{
	DIR *dir = opendir(c->pin_dir);
	struct dirent *entry;
	int rc = EXIT_OK, seen = 0;

	if (!dir)
		return errno == ENOENT ? EXIT_OK : fail(c, EXIT_FAILED, "opendir(%s): %s", c->pin_dir, strerror(errno));
	while (rc == EXIT_OK && (entry = readdir(dir)) && seen++ < PIN_ENTRIES_MAX) {
		struct link_pin link = { .fd = -1 };
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		char path[PATH_MAX];

		if (strncmp(entry->d_name, LINK_PIN_PREFIX, strlen(LINK_PIN_PREFIX)) != 0)
			continue;
		snprintf(link.name, sizeof(link.name), "%s", entry->d_name);
		snprintf(link.ifname, sizeof(link.ifname), "%s", entry->d_name + strlen(LINK_PIN_PREFIX));
		pin_path(c, link.name, path);
		link.fd = bpf_obj_get(path);
		memset(&info, 0, sizeof(info));
		if (link.fd >= 0 && bpf_obj_get_info_by_fd(link.fd, &info, &len) == 0) {
			link.link_id = info.id;
			link.prog_id = info.prog_id;
			link.ifindex = info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : 0;
		}
		if (link.ifindex && !if_indextoname(link.ifindex, link.ifname))
			snprintf(link.ifname, sizeof(link.ifname), "?");
		rc = visit(c, &link, arg);
		if (link.fd >= 0)
			close(link.fd);
	}
	closedir(dir);
	return rc;
}

struct find_link {
	__u32 ifindex;
	struct link_pin found;
	int have;
};

static int find_link_visit(struct ctx *c, struct link_pin *link, void *arg)
{
	struct find_link *f = arg;
	char path[PATH_MAX];

	if (link->ifindex == 0) {
		/* Its interface is gone: the kernel already detached it; drop the pin. */
		pin_path(c, link->name, path);
		unlink(path);
		return EXIT_OK;
	}
	if (link->ifindex == f->ifindex && !f->have) {
		f->found = *link;
		f->found.fd = dup(link->fd);
		f->have = 1;
	}
	return EXIT_OK;
}

/* Our pinned link on ifindex, if any (its fd must be closed by the caller). Removes defunct pins on the way. */
static int find_link(struct ctx *c, __u32 ifindex, struct find_link *f)
{
	memset(f, 0, sizeof(*f));
	f->ifindex = ifindex;
	f->found.fd = -1;
	return for_each_link(c, find_link_visit, f);
}

static void prog_name_by_id(__u32 id, char out[BPF_OBJ_NAME_LEN + 1])
{
	struct bpf_prog_info info;
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(out, BPF_OBJ_NAME_LEN + 1, "?");
	if (fd < 0)
		return;
	if (prog_id_of(fd, &info) == 0 && info.name[0])
		snprintf(out, BPF_OBJ_NAME_LEN + 1, "%s", info.name);
	close(fd);
}

static int query_xdp(struct ctx *c, int ifindex, const char *ifname, struct bpf_xdp_query_opts *q)
{
	memset(q, 0, sizeof(*q));
	q->sz = sizeof(*q);
	if (bpf_xdp_query(ifindex, 0, q) < 0)
		return fail(c, EXIT_FAILED, "bpf_xdp_query(%s): %s", ifname, strerror(errno));
	return EXIT_OK;
}

static int refuse_foreign(struct ctx *c, const char *ifname, const struct bpf_xdp_query_opts *q, const char *action)
{
	char name[BPF_OBJ_NAME_LEN + 1];

	prog_name_by_id(q->prog_id, name);
	return fail(c, EXIT_BUSY,
		    "%s already has an XDP program attached by someone else (prog id %u '%s', %s mode); x0-xdp will "
		    "not %s it: remove it first (e.g. `ip link set dev %s xdp off`)",
		    ifname, q->prog_id, name, attach_mode_name(q->attach_mode), action, ifname);
}

/* ---- commands ----------------------------------------------------------------------------------------- */

static int create_link(struct ctx *c, int prog_fd, int ifindex, const char *ifname, const char *mode, int *link_fd)
{
	__u32 tries[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	int first = strcmp(mode, "generic") == 0 ? 1 : 0;
	int last = strcmp(mode, "native") == 0 ? 0 : 1;
	int err = 0;

	for (int i = first; i <= last; i++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = tries[i]);
		*link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
		if (*link_fd >= 0)
			return EXIT_OK;
		err = errno;
		if (err == EBUSY || err == EEXIST || err == EPERM)
			break; /* falling back to generic mode would not help */
	}
	if (err == EBUSY || err == EEXIST) {
		struct bpf_xdp_query_opts q;
		if (query_xdp(c, ifindex, ifname, &q) == EXIT_OK && q.attach_mode != XDP_ATTACHED_NONE)
			return refuse_foreign(c, ifname, &q, "replace");
		return fail(c, EXIT_BUSY, "bpf_link_create(%s): %s", ifname, strerror(err));
	}
	if (err == EPERM)
		return fail(c, EXIT_NOT_PERMITTED, "bpf_link_create(%s): %s", ifname, strerror(err));
	if (strcmp(mode, "native") == 0 && (err == EOPNOTSUPP || err == EINVAL))
		return fail(c, EXIT_MODE, "bpf_link_create(%s, native mode): %s; the driver may lack native XDP: "
			    "use --mode generic or --mode auto", ifname, strerror(err));
	return fail(c, EXIT_FAILED, "bpf_link_create(%s, %s mode): %s", ifname, mode, strerror(err));
}

static void print_attached(struct ctx *c, const char *ifname, int ifindex, const char *mode, __u32 prog_id,
			   __u32 link_id, int already)
{
	if (c->json) {
		fputs("{\"ok\":true,\"command\":\"attach\",\"ifname\":", stdout);
		json_string(ifname); /* interface names may hold quotes */
		printf(",\"ifindex\":%d,\"mode\":\"%s\",\"prog_id\":%u,\"link_id\":%u,\"already\":%s,\"pin_dir\":",
		       ifindex, mode, prog_id, link_id, already ? "true" : "false");
		json_string(c->pin_dir);
		puts("}");
		return;
	}
	printf("%s: %s (%s mode, prog id %u, link id %u, pinned under %s)\n", ifname,
	       already ? "already attached" : "attached", mode, prog_id, link_id, c->pin_dir);
}

static int attach_to(struct ctx *c, const char *ifname, int ifindex, const char *mode)
{
	struct bpf_xdp_query_opts q;
	struct bpf_prog_info info;
	struct find_link f;
	char path[PATH_MAX];
	int prog_fd, link_fd = -1, rc;

	if ((rc = ensure_loaded(c, &prog_fd)) != EXIT_OK)
		return rc;
	prog_id_of(prog_fd, &info);
	if ((rc = find_link(c, (__u32)ifindex, &f)) != EXIT_OK || (rc = query_xdp(c, ifindex, ifname, &q)) != EXIT_OK)
		goto out;
	if (f.have) {
		print_attached(c, ifname, ifindex, attach_mode_name(q.attach_mode), f.found.prog_id, f.found.link_id, 1);
		close(f.found.fd);
		goto out;
	}
	if (q.attach_mode != XDP_ATTACHED_NONE) {
		rc = refuse_foreign(c, ifname, &q, "replace");
		goto out;
	}
	if ((rc = create_link(c, prog_fd, ifindex, ifname, mode, &link_fd)) != EXIT_OK)
		goto out;
	fault_point("hang-before-pin");
	fault_point("kill-after-link");
	/* The name is a label for people (dots, as in eth0.100, become '_': bpffs reserves dots); a renamed
	 * interface's live link may still hold it. */
	char label[IF_NAMESIZE];
	snprintf(label, sizeof(label), "%s", ifname);
	for (char *dot = strchr(label, '.'); dot; dot = strchr(dot, '.'))
		*dot = '_';
	snprintf(path, sizeof(path), "%s/" LINK_PIN_PREFIX "%s", c->pin_dir, label);
	if (access(path, F_OK) == 0)
		snprintf(path, sizeof(path), "%s/" LINK_PIN_PREFIX "%s@%d", c->pin_dir, label, ifindex);
	if (bpf_obj_pin(link_fd, path) < 0) {
		rc = fail(c, EXIT_FAILED, "bpf_obj_pin(%s): %s", path, strerror(errno));
	} else {
		struct bpf_link_info linfo;
		__u32 len = sizeof(linfo);
		memset(&linfo, 0, sizeof(linfo));
		bpf_obj_get_info_by_fd(link_fd, &linfo, &len);
		query_xdp(c, ifindex, ifname, &q);
		print_attached(c, ifname, ifindex, attach_mode_name(q.attach_mode), info.id, linfo.id, 0);
	}
	close(link_fd);
out:
	close(prog_fd);
	return rc;
}

static int cmd_attach(struct ctx *c, struct args *a)
{
	const char *mode = a->mode ? a->mode : "auto";
	int ifindex, rc;

	if (a->npos != 1)
		return fail(c, EXIT_USAGE, "attach needs one interface: x0-xdp attach IFACE [--mode native|generic|auto]");
	if (strcmp(mode, "native") && strcmp(mode, "generic") && strcmp(mode, "auto"))
		return fail(c, EXIT_USAGE, "--mode is native, generic or auto, not '%s'", mode);
	if ((rc = need_caps(c, 1)) || (rc = need_bpffs(c)) || (rc = resolve_iface(c, a->pos[0], &ifindex)))
		return rc;
	if ((rc = lock_pin_dir(c)) != EXIT_OK)
		return rc;
	return attach_to(c, a->pos[0], ifindex, mode);
}

static int cmd_detach(struct ctx *c, struct args *a)
{
	struct bpf_xdp_query_opts q;
	struct find_link f;
	char path[PATH_MAX];
	int ifindex, rc;

	if (a->npos != 1)
		return fail(c, EXIT_USAGE, "detach needs one interface: x0-xdp detach IFACE");
	if ((rc = need_caps(c, 1)) || (rc = need_bpffs(c)) || (rc = resolve_iface(c, a->pos[0], &ifindex)))
		return rc;
	if ((rc = lock_pin_dir(c)) || (rc = find_link(c, (__u32)ifindex, &f)))
		return rc;
	if (!f.have) {
		if ((rc = query_xdp(c, ifindex, a->pos[0], &q)) != EXIT_OK)
			return rc;
		if (q.attach_mode != XDP_ATTACHED_NONE)
			return refuse_foreign(c, a->pos[0], &q, "detach");
	} else {
		pin_path(c, f.found.name, path);
		rc = bpf_link_detach(f.found.fd);
		close(f.found.fd);
		if (rc < 0)
			return fail(c, EXIT_FAILED, "bpf_link_detach(%s): %s", a->pos[0], strerror(errno));
		if (unlink(path) < 0)
			return fail(c, EXIT_FAILED, "unlink(%s): %s", path, strerror(errno));
	}
	if (c->json) {
		fputs("{\"ok\":true,\"command\":\"detach\",\"ifname\":", stdout);
		json_string(a->pos[0]);
		printf(",\"detached\":%s}\n", f.have ? "true" : "false");
	} else
		printf("%s: %s\n", a->pos[0], f.have ? "detached" : "was not attached");
	return EXIT_OK;
}

/* Removes blocklist entries whose TTL has passed (the program removes them too, but only when their MAC sends). */
static int purge_expired(int fd, __u64 now)
{
	struct x0_mac_key key, next;
	struct x0_block value;
	int removed = 0, have = 0;

	for (int n = 0; n < X0_BLOCKLIST_MAX * 2; n++) {
		if (bpf_map_get_next_key(fd, have ? &key : NULL, &next) < 0)
			break;
		have = 1;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &value) == 0 && value.expires_ns && value.expires_ns <= now &&
		    bpf_map_delete_elem(fd, &key) == 0)
			removed++;
	}
	return removed;
}

static int read_config(struct ctx *c, int fd, struct x0_config *config);

/* Keeps X0_CONFIG_HAS_BLOCKS true whenever the blocklist has entries: set before adding one (adding), cleared
 * when the map is found empty. The program skips its blocklist lookup while the flag is clear. */
static int sync_blocks_flag(struct ctx *c, int blocklist_fd, int adding)
{
	struct x0_config config;
	struct x0_mac_key key;
	__u32 zero = 0;
	int fd, rc;

	if ((rc = open_map(c, "x0_config", &fd)) != EXIT_OK)
		return rc;
	if ((rc = read_config(c, fd, &config)) == EXIT_OK) {
		int any = adding || bpf_map_get_next_key(blocklist_fd, NULL, &key) == 0;
		__u32 flags = any ? config.flags | X0_CONFIG_HAS_BLOCKS : config.flags & ~X0_CONFIG_HAS_BLOCKS;
		config.flags = flags;
		if (bpf_map_update_elem(fd, &zero, &config, BPF_ANY) < 0)
			rc = fail(c, EXIT_FAILED, "bpf_map_update_elem(x0_config): %s", strerror(errno));
	}
	close(fd);
	return rc;
}

/* Common start of the commands that edit a map: checks, lock, loaded program, the map's descriptor. */
static int open_for_edit(struct ctx *c, const char *map, int *fd)
{
	int rc, prog_fd;

	if ((rc = need_caps(c, 0)) || (rc = need_bpffs(c)) || (rc = lock_pin_dir(c)) || (rc = ensure_loaded(c, &prog_fd)))
		return rc;
	close(prog_fd);
	return open_map(c, map, fd);
}

static int cmd_block(struct ctx *c, struct args *a)
{
	struct x0_mac_key key = { 0 };
	struct x0_block value = { 0 }, old;
	const char *reason = a->reason ? a->reason : "manual";
	__u64 ttl = 0;
	char mac[18];
	int fd, rc;

	if (a->npos != 1 || parse_mac(a->pos[0], key.mac) < 0)
		return fail(c, EXIT_USAGE, "block needs one MAC address like 02:00:5e:10:00:01: x0-xdp block MAC [--ttl S] [--reason CODE]");
	if (a->ttl && parse_u64(a->ttl, 1, TTL_SECONDS_MAX, &ttl) < 0)
		return fail(c, EXIT_USAGE, "--ttl is whole seconds, 1..%llu (leave it out for a block without expiry)", TTL_SECONDS_MAX);
	if (!reason_valid(reason))
		return fail(c, EXIT_USAGE, "--reason is 1..%d characters of a-z 0-9 . _ -", X0_REASON_BYTES - 1);
	if ((rc = open_for_edit(c, "x0_blocklist", &fd)) != EXIT_OK)
		return rc;
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	purge_expired(fd, now);
	if ((rc = sync_blocks_flag(c, fd, 1)) != EXIT_OK) {
		close(fd);
		return rc;
	}
	int already = bpf_map_lookup_elem(fd, &key, &old) == 0;
	value.added_ns = already ? old.added_ns : now;
	value.drops = already ? old.drops : 0;
	value.expires_ns = ttl ? now + ttl * 1000000000ull : 0;
	snprintf(value.reason, sizeof(value.reason), "%s", reason);
	if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) < 0) {
		int err = errno;
		close(fd);
		if (err == E2BIG || err == ENOMEM)
			return fail(c, EXIT_FULL, "the blocklist is full (%d entries); unblock some first", X0_BLOCKLIST_MAX);
		return fail(c, EXIT_FAILED, "bpf_map_update_elem(x0_blocklist): %s", strerror(err));
	}
	close(fd);
	format_mac(key.mac, mac);
	if (!c->json) {
		printf("%s: blocked (%s, %s)\n", mac, reason, ttl ? "with a TTL" : "no expiry");
		return EXIT_OK;
	}
	printf("{\"ok\":true,\"command\":\"block\",\"mac\":\"%s\",\"reason\":\"%s\",\"ttl_s\":", mac, value.reason);
	if (ttl)
		printf("%llu", (unsigned long long)ttl);
	else
		fputs("null", stdout);
	printf(",\"already\":%s}\n", already ? "true" : "false");
	return EXIT_OK;
}

static int cmd_unblock(struct ctx *c, struct args *a)
{
	struct x0_mac_key key = { 0 };
	char mac[18];
	int fd, rc;

	if (a->npos != 1 || parse_mac(a->pos[0], key.mac) < 0)
		return fail(c, EXIT_USAGE, "unblock needs one MAC address like 02:00:5e:10:00:01: x0-xdp unblock MAC");
	if ((rc = open_for_edit(c, "x0_blocklist", &fd)) != EXIT_OK)
		return rc;
	purge_expired(fd, clock_ns(CLOCK_MONOTONIC));
	int was = bpf_map_delete_elem(fd, &key) == 0;
	int err = errno;
	rc = sync_blocks_flag(c, fd, 0);
	close(fd);
	if (!was && err != ENOENT)
		return fail(c, EXIT_FAILED, "bpf_map_delete_elem(x0_blocklist): %s", strerror(err));
	if (rc != EXIT_OK)
		return rc;
	format_mac(key.mac, mac);
	if (c->json)
		printf("{\"ok\":true,\"command\":\"unblock\",\"mac\":\"%s\",\"was_blocked\":%s}\n", mac, was ? "true" : "false");
	else
		printf("%s: %s\n", mac, was ? "unblocked" : "was not blocked");
	return EXIT_OK;
}

/* ---- rate limits -------------------------------------------------------------------------------------- */

static int read_config(struct ctx *c, int fd, struct x0_config *config)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, config) < 0)
		return fail(c, EXIT_FAILED, "bpf_map_lookup_elem(x0_config): %s", strerror(errno));
	if (config->rule_count > X0_RULES_MAX)
		return fail(c, EXIT_FAILED, "x0_config holds %u rules, more than %d: run `x0-xdp limit clear`",
			    config->rule_count, X0_RULES_MAX);
	return EXIT_OK;
}

static void print_rule_json(const struct x0_rule *rule, __u32 index, const struct x0_rule_stats *stats)
{
	printf("{\"index\":%u,", index);
	if (rule->match == X0_MATCH_ETHERTYPE)
		printf("\"match\":\"ethertype\",\"ethertype\":\"0x%04x\",", rule->ethertype);
	else
		printf("\"match\":\"udp-dport\",\"port_lo\":%u,\"port_hi\":%u,", rule->port_lo, rule->port_hi);
	printf("\"rate_pps\":%u,\"burst\":%u,\"matched\":%llu,\"dropped\":%llu}", rule->rate_pps, rule->burst,
	       (unsigned long long)stats->matched, (unsigned long long)stats->dropped);
}

static void print_rule_text(const struct x0_rule *rule, __u32 index, const struct x0_rule_stats *stats)
{
	if (rule->match == X0_MATCH_ETHERTYPE)
		printf("  %u: ethertype 0x%04x", index, rule->ethertype);
	else
		printf("  %u: udp dport %u-%u", index, rule->port_lo, rule->port_hi);
	printf("  %u pps, burst %u  (matched %llu, dropped %llu)\n", rule->rate_pps, rule->burst,
	       (unsigned long long)stats->matched, (unsigned long long)stats->dropped);
}

/* Prints the rules: a JSON array (json) or lines. */
static void print_rules(struct ctx *c, const struct x0_config *config, int stats_fd)
{
	if (!c->json && config->rule_count == 0)
		puts("  (no rate limits)");
	if (c->json)
		putchar('[');
	for (__u32 i = 0; i < config->rule_count && i < X0_RULES_MAX; i++) {
		struct x0_rule_stats stats = { 0 };
		if (stats_fd >= 0)
			read_rule_stats(stats_fd, i, &stats);
		if (c->json) {
			if (i)
				putchar(',');
			print_rule_json(&config->rules[i], i, &stats);
		} else {
			print_rule_text(&config->rules[i], i, &stats);
		}
	}
	if (c->json)
		putchar(']');
}

/* The rule a/--ethertype or --udp-ports describes (match fields only); 0 when neither was given. */
static int parse_selector(struct ctx *c, const struct args *a, struct x0_rule *rule, int *given)
{
	__u64 ethertype;

	memset(rule, 0, sizeof(*rule));
	*given = a->ethertype || a->udp_ports;
	if (a->ethertype && a->udp_ports)
		return fail(c, EXIT_USAGE, "give --ethertype or --udp-ports, not both");
	if (a->ethertype) {
		if (parse_u64(a->ethertype, 0x0600, 0xffff, &ethertype) < 0)
			return fail(c, EXIT_USAGE, "--ethertype is 0x0600..0xffff (e.g. 0x4305 for batman-adv), not '%s'", a->ethertype);
		rule->match = X0_MATCH_ETHERTYPE;
		rule->ethertype = (__u16)ethertype;
	} else if (a->udp_ports) {
		if (parse_ports(a->udp_ports, &rule->port_lo, &rule->port_hi) < 0)
			return fail(c, EXIT_USAGE, "--udp-ports is PORT or LO-HI within 1..65535, not '%s'", a->udp_ports);
		rule->match = X0_MATCH_UDP_DPORT;
	}
	return EXIT_OK;
}

static int same_selector(const struct x0_rule *x, const struct x0_rule *y)
{
	return x->match == y->match && x->ethertype == y->ethertype && x->port_lo == y->port_lo && x->port_hi == y->port_hi;
}

static int limit_set(struct ctx *c, const struct args *a, struct x0_config *config, struct x0_rule *rule, int stats_fd)
{
	__u64 rate, burst;
	__u32 index = config->rule_count;

	if (!a->rate || parse_u64(a->rate, 1, RATE_PPS_MAX, &rate) < 0)
		return fail(c, EXIT_USAGE, "limit set needs --rate PPS, 1..%llu frames per second", RATE_PPS_MAX);
	burst = rate; /* default: one second's worth */
	if (a->burst && parse_u64(a->burst, 1, BURST_MAX, &burst) < 0)
		return fail(c, EXIT_USAGE, "--burst is 1..%llu frames", BURST_MAX);
	for (__u32 i = 0; i < config->rule_count; i++)
		if (same_selector(&config->rules[i], rule))
			index = i;
	if (index == X0_RULES_MAX)
		return fail(c, EXIT_FULL, "all %d rate-limit rules are in use; clear one first", X0_RULES_MAX);
	rule->rate_pps = (__u32)rate;
	rule->burst = (__u32)burst;
	rule->interval_ns = 1000000000ull / rate;
	rule->tolerance_ns = (burst - 1) * rule->interval_ns;
	rule->generation = ++config->generation_seq;
	config->rules[index] = *rule;
	if (index == config->rule_count)
		config->rule_count++;
	zero_rule_stats(stats_fd, index);
	return EXIT_OK;
}

static void limit_clear(struct x0_config *config, const struct x0_rule *rule, int given, int stats_fd)
{
	__u32 kept = 0, first_removed = X0_RULES_MAX;

	for (__u32 i = 0; i < config->rule_count; i++) {
		if (given && !same_selector(&config->rules[i], rule))
			config->rules[kept++] = config->rules[i];
		else if (first_removed == X0_RULES_MAX)
			first_removed = i;
	}
	for (__u32 i = kept; i < config->rule_count; i++)
		memset(&config->rules[i], 0, sizeof(config->rules[i]));
	/* Rules after a removed one moved down an index: their statistics start again. */
	for (__u32 i = first_removed; i < X0_RULES_MAX; i++)
		zero_rule_stats(stats_fd, i);
	config->rule_count = kept;
}

static int cmd_limit(struct ctx *c, struct args *a)
{
	const char *action = a->npos ? a->pos[0] : "show";
	struct x0_config config;
	struct x0_rule rule;
	int given, fd, stats_fd, rc;

	if (a->npos > 1 || (strcmp(action, "show") && strcmp(action, "set") && strcmp(action, "clear")))
		return fail(c, EXIT_USAGE, "limit takes show, set or clear; see x0-xdp limit --help");
	if ((rc = parse_selector(c, a, &rule, &given)) != EXIT_OK)
		return rc;
	if (strcmp(action, "set") == 0 && !given)
		return fail(c, EXIT_USAGE, "limit set needs --ethertype T or --udp-ports LO[-HI]");
	if (strcmp(action, "show") == 0) {
		if ((rc = need_caps(c, 0)) || (rc = need_bpffs(c)) || (rc = open_map(c, "x0_config", &fd)))
			return rc;
	} else if ((rc = open_for_edit(c, "x0_config", &fd)) != EXIT_OK) {
		return rc;
	}
	if ((rc = open_map(c, "x0_rule_stats", &stats_fd)) != EXIT_OK || (rc = read_config(c, fd, &config)) != EXIT_OK)
		goto out;
	if (strcmp(action, "set") == 0)
		rc = limit_set(c, a, &config, &rule, stats_fd);
	else if (strcmp(action, "clear") == 0)
		limit_clear(&config, &rule, given, stats_fd);
	config.flags &= ~X0_CONFIG_HAS_UDP;
	for (__u32 i = 0; i < config.rule_count; i++)
		if (config.rules[i].match == X0_MATCH_UDP_DPORT)
			config.flags |= X0_CONFIG_HAS_UDP;
	__u32 zero = 0;
	if (rc == EXIT_OK && strcmp(action, "show") && bpf_map_update_elem(fd, &zero, &config, BPF_ANY) < 0)
		rc = fail(c, EXIT_FAILED, "bpf_map_update_elem(x0_config): %s", strerror(errno));
	if (rc != EXIT_OK)
		goto out;
	if (c->json)
		printf("{\"ok\":true,\"command\":\"limit\",\"action\":\"%s\",\"limits\":", action);
	else
		printf("rate limits (per source MAC, first matching rule):\n");
	print_rules(c, &config, stats_fd);
	if (c->json)
		puts("}");
out:
	close(fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return rc;
}

/* ---- stats and status --------------------------------------------------------------------------------- */

struct source_row {
	__u8 mac[6];
	struct x0_source sum;
};

static int compare_rows(const void *x, const void *y)
{
	return memcmp(((const struct source_row *)x)->mac, ((const struct source_row *)y)->mac, 6);
}

/* All per-source rows, summed over CPUs and sorted by MAC. Bounded by the map's size. */
static int read_sources(struct ctx *c, int fd, struct source_row **rows, int *count)
{
	int ncpu = possible_cpus();
	struct x0_source *per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	struct x0_mac_key key, next;
	int have = 0;

	*count = 0;
	*rows = calloc(X0_COUNTERS_MAX, sizeof(**rows));
	if (!per_cpu || !*rows) {
		free(per_cpu);
		return fail(c, EXIT_FAILED, "calloc: %s", strerror(errno));
	}
	for (int n = 0; n < X0_COUNTERS_MAX * 2 && *count < X0_COUNTERS_MAX; n++) {
		if (bpf_map_get_next_key(fd, have ? &key : NULL, &next) < 0)
			break;
		have = 1;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, per_cpu) < 0)
			continue; /* evicted since get_next_key */
		memcpy((*rows)[*count].mac, key.mac, 6);
		sum_sources(per_cpu, ncpu, &(*rows)[*count].sum);
		(*count)++;
	}
	free(per_cpu);
	qsort(*rows, (size_t)*count, sizeof(**rows), compare_rows);
	return EXIT_OK;
}

#define U64(x) ((unsigned long long)(x))

static void print_totals(struct ctx *c, const struct x0_totals *t)
{
	if (!c->json) {
		printf("totals: %llu packets, %llu bytes, %llu passed, %llu dropped (blocked), %llu dropped (rate), "
		       "%llu batman-adv, %llu malformed\n",
		       U64(t->packets), U64(t->bytes), U64(t->passed), U64(t->dropped_blocked), U64(t->dropped_rate),
		       U64(t->batman_packets), U64(t->malformed));
		return;
	}
	printf("\"totals\":{\"packets\":%llu,\"bytes\":%llu,\"passed\":%llu,\"dropped_blocked\":%llu,"
	       "\"dropped_rate\":%llu,\"batman_packets\":%llu,\"malformed\":%llu,\"counters_full\":%llu,"
	       "\"blocks_expired\":%llu}",
	       U64(t->packets), U64(t->bytes), U64(t->passed), U64(t->dropped_blocked), U64(t->dropped_rate),
	       U64(t->batman_packets), U64(t->malformed), U64(t->counters_full), U64(t->blocks_expired));
}

static void print_source(struct ctx *c, const struct source_row *row, __u64 now_coarse, int first)
{
	const struct x0_source *s = &row->sum;
	__u64 idle_ms = now_coarse > s->last_seen_ns ? (now_coarse - s->last_seen_ns) / 1000000ull : 0;
	char mac[18];

	format_mac(row->mac, mac);
	if (!c->json) {
		printf("  %s %12llu %14llu %10llu %10llu %10llu %10llu\n", mac, U64(s->packets), U64(s->bytes),
		       U64(s->dropped_blocked), U64(s->dropped_rate), U64(s->batman_packets), U64(idle_ms));
		return;
	}
	printf("%s{\"mac\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"drops\":%llu,\"dropped_blocked\":%llu,"
	       "\"dropped_rate\":%llu,\"batman_packets\":%llu,\"idle_ms\":%llu}",
	       first ? "" : ",", mac, U64(s->packets), U64(s->bytes), U64(s->dropped_blocked + s->dropped_rate),
	       U64(s->dropped_blocked), U64(s->dropped_rate), U64(s->batman_packets), U64(idle_ms));
}

static int cmd_stats(struct ctx *c, struct args *a)
{
	int counters_fd = -1, totals_fd = -1, rc;
	struct source_row *rows = NULL;
	struct x0_totals totals;
	int count = 0;

	if (a->npos)
		return fail(c, EXIT_USAGE, "stats takes no arguments: x0-xdp stats [--json]");
	if ((rc = need_caps(c, 0)) || (rc = need_bpffs(c)) || (rc = open_map(c, "x0_counters", &counters_fd)))
		return rc;
	if ((rc = open_map(c, "x0_totals", &totals_fd)) || (rc = read_totals(c, totals_fd, &totals)) ||
	    (rc = read_sources(c, counters_fd, &rows, &count)))
		goto out;
	__u64 now_coarse = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (c->json)
		printf("{\"ok\":true,\"command\":\"stats\",\"sources_max\":%d,", X0_COUNTERS_MAX);
	print_totals(c, &totals);
	if (c->json)
		fputs(",\"sources\":[", stdout);
	else
		printf("  %-17s %12s %14s %10s %10s %10s %10s\n", "source", "packets", "bytes", "blocked", "rate-drop",
		       "batman", "idle-ms");
	for (int i = 0; i < count; i++)
		print_source(c, &rows[i], now_coarse, i == 0);
	if (c->json)
		puts("]}");
out:
	free(rows);
	if (totals_fd >= 0)
		close(totals_fd);
	close(counters_fd);
	return rc;
}

static int count_entries(const struct ctx *c, const char *name, __u32 *entries, __u32 *max_entries)
{
	char path[PATH_MAX];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	__u8 key[64], next[64];
	int have = 0;

	*entries = 0;
	*max_entries = 0;
	pin_path(c, name, path);
	int fd = bpf_obj_get(path);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.key_size > sizeof(key)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*max_entries = info.max_entries;
	if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		*entries = info.max_entries;
	} else {
		for (__u32 n = 0; n < info.max_entries * 2; n++) {
			if (bpf_map_get_next_key(fd, have ? key : NULL, next) < 0)
				break;
			have = 1;
			memcpy(key, next, info.key_size);
			(*entries)++;
		}
	}
	close(fd);
	return 0;
}

static void print_maps(struct ctx *c)
{
	static const char *const names[] = { "x0_counters", "x0_blocklist", "x0_buckets", "x0_config", "x0_totals", "x0_rule_stats" };
	int printed = 0;

	if (c->json)
		fputs(",\"maps\":{", stdout);
	else
		puts("maps:");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		__u32 entries, max_entries;
		if (count_entries(c, names[i], &entries, &max_entries) < 0)
			continue;
		if (c->json)
			printf("%s\"%s\":{\"entries\":%u,\"max_entries\":%u}", printed++ ? "," : "", names[i], entries, max_entries);
		else
			printf("  %-14s %6u / %u\n", names[i], entries, max_entries);
	}
	if (c->json)
		putchar('}');
}

struct link_print {
	int printed;
};

static int print_link_visit(struct ctx *c, struct link_pin *link, void *arg)
{
	struct link_print *p = arg;
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	const char *mode = "none";

	if (link->ifindex && bpf_xdp_query((int)link->ifindex, 0, &q) == 0)
		mode = attach_mode_name(q.attach_mode);
	const char *state = link->ifindex ? "attached" : "defunct";
	if (c->json) {
		printf("%s{\"ifname\":", p->printed++ ? "," : "");
		json_string(link->ifname);
		printf(",\"ifindex\":%u,\"mode\":\"%s\",\"prog_id\":%u,\"link_id\":%u,\"state\":\"%s\"}", link->ifindex,
		       mode, link->prog_id, link->link_id, state);
	} else {
		printf("  %-16s ifindex %u, %s mode, prog id %u, link id %u, %s\n", link->ifname, link->ifindex, mode,
		       link->prog_id, link->link_id, state);
		p->printed++;
	}
	return EXIT_OK;
}

static void print_block(struct ctx *c, const struct x0_mac_key *key, const struct x0_block *value, __u64 now, int first)
{
	char mac[18], reason[X0_REASON_BYTES];
	__u64 age_s = now > value->added_ns ? (now - value->added_ns) / 1000000000ull : 0;
	__u64 ttl_s = value->expires_ns ? (value->expires_ns - now + 999999999ull) / 1000000000ull : 0;

	format_mac(key->mac, mac);
	memcpy(reason, value->reason, sizeof(reason));
	reason[sizeof(reason) - 1] = 0;
	if (!c->json) {
		printf("  %s  %-15s drops %llu, age %llu s, %s", mac, reason, U64(value->drops), U64(age_s),
		       value->expires_ns ? "" : "no expiry\n");
		if (value->expires_ns)
			printf("expires in %llu s\n", U64(ttl_s));
		return;
	}
	printf("%s{\"mac\":\"%s\",\"reason\":", first ? "" : ",", mac);
	json_string(reason);
	printf(",\"drops\":%llu,\"age_s\":%llu,\"ttl_s\":", U64(value->drops), U64(age_s));
	if (value->expires_ns)
		printf("%llu}", U64(ttl_s));
	else
		fputs("null}", stdout);
}

struct block_row {
	struct x0_mac_key key;
	struct x0_block value;
};

static int compare_blocks(const void *x, const void *y)
{
	return memcmp(((const struct block_row *)x)->key.mac, ((const struct block_row *)y)->key.mac, 6);
}

/* The live (unexpired) blocklist entries, sorted by MAC; expired ones are counted, not listed. */
static void print_blocklist(struct ctx *c, int fd)
{
	struct block_row *rows = calloc(X0_BLOCKLIST_MAX, sizeof(*rows));
	struct x0_mac_key key, next;
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	int have = 0, count = 0, expired = 0;

	fputs(c->json ? ",\"blocklist\":[" : "blocklist:\n", stdout);
	for (int n = 0; rows && fd >= 0 && n < X0_BLOCKLIST_MAX * 2 && count < X0_BLOCKLIST_MAX; n++) {
		if (bpf_map_get_next_key(fd, have ? &key : NULL, &next) < 0)
			break;
		have = 1;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &rows[count].value) < 0)
			continue;
		if (rows[count].value.expires_ns && rows[count].value.expires_ns <= now) {
			expired++;
			continue;
		}
		rows[count++].key = key;
	}
	if (rows)
		qsort(rows, (size_t)count, sizeof(*rows), compare_blocks);
	for (int i = 0; i < count; i++)
		print_block(c, &rows[i].key, &rows[i].value, now, i == 0);
	free(rows);
	if (c->json)
		printf("],\"blocklist_expired\":%d", expired);
	else if (count == 0)
		puts("  (empty)");
}

static void print_program(struct ctx *c)
{
	char path[PATH_MAX];
	struct bpf_prog_info info;

	pin_path(c, PROG_PIN, path);
	int fd = bpf_obj_get(path);
	if (fd < 0 || prog_id_of(fd, &info) < 0) {
		fputs(c->json ? ",\"program\":null" : "program: not loaded\n", stdout);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	char tag[2 * BPF_TAG_SIZE + 1];
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	/* run_cnt and run_time_ns count only while someone holds BPF stats on (sysctl kernel.bpf_stats_enabled). */
	if (c->json)
		printf(",\"program\":{\"id\":%u,\"name\":\"%s\",\"tag\":\"%s\",\"run_cnt\":%llu,\"run_time_ns\":%llu}",
		       info.id, info.name, tag, U64(info.run_cnt), U64(info.run_time_ns));
	else
		printf("program: %s, id %u, tag %s, %llu runs, %llu ns\n", info.name, info.id, tag, U64(info.run_cnt),
		       U64(info.run_time_ns));
}

static int cmd_status(struct ctx *c, struct args *a)
{
	struct link_print p = { 0 };
	struct x0_config config = { 0 };
	int blocklist_fd = -1, config_fd = -1, stats_fd = -1, rc;

	if (a->npos)
		return fail(c, EXIT_USAGE, "status takes no arguments: x0-xdp status [--json]");
	if ((rc = need_caps(c, 0)) || (rc = need_bpffs(c)))
		return rc;
	int is_loaded = loaded(c);
	if (is_loaded) {
		char path[PATH_MAX];
		pin_path(c, "x0_blocklist", path);
		blocklist_fd = bpf_obj_get(path);
		pin_path(c, "x0_config", path);
		config_fd = bpf_obj_get(path);
		pin_path(c, "x0_rule_stats", path);
		stats_fd = bpf_obj_get(path);
		if (config_fd >= 0 && read_config(c, config_fd, &config) != EXIT_OK)
			config.rule_count = 0;
	}
	if (c->json) {
		printf("{\"ok\":true,\"command\":\"status\",\"version\":\"%s\",\"pin_dir\":", X0_VERSION);
		json_string(c->pin_dir);
		printf(",\"loaded\":%s", is_loaded ? "true" : "false");
	} else {
		printf("x0-xdp %s, pinned under %s: %s\n", X0_VERSION, c->pin_dir, is_loaded ? "loaded" : "not loaded");
	}
	print_program(c);
	fputs(c->json ? ",\"interfaces\":[" : "interfaces:\n", stdout);
	for_each_link(c, print_link_visit, &p);
	fputs(c->json ? "]" : (p.printed ? "" : "  (none)\n"), stdout);
	print_blocklist(c, blocklist_fd);
	fputs(c->json ? ",\"limits\":" : "rate limits:\n", stdout);
	print_rules(c, &config, stats_fd);
	print_maps(c);
	if (c->json)
		puts("}");
	if (blocklist_fd >= 0)
		close(blocklist_fd);
	if (config_fd >= 0)
		close(config_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return EXIT_OK;
}

/* ---- probe, mount, purge ------------------------------------------------------------------------------ */

static int cmd_probe(struct ctx *c, struct args *a)
{
	struct bpf_program *prog;
	struct utsname uts;
	unsigned char frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	int rc;

	if (a->npos)
		return fail(c, EXIT_USAGE, "probe takes no arguments");
	if ((rc = need_caps(c, 0)) != EXIT_OK)
		return rc;
	struct bpf_object *obj = open_object(c, 0);
	if (!obj)
		return EXIT_FAILED;
	if ((rc = load_object(c, obj, &prog)) != EXIT_OK)
		goto out;
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 1);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &run) < 0) {
		rc = fail(c, errno == EPERM ? EXIT_NO_BPF : EXIT_FAILED, "bpf_prog_test_run_opts: %s", strerror(errno));
		goto out;
	}
	if (run.retval != XDP_PASS) {
		rc = fail(c, EXIT_FAILED, "the program returned %u for a test frame, expected XDP_PASS", run.retval);
		goto out;
	}
	uname(&uts);
	if (c->json)
		printf("{\"ok\":true,\"command\":\"probe\",\"kernel\":\"%s\",\"test_run\":\"XDP_PASS\"}\n", uts.release);
	else
		printf("BPF and XDP work here (kernel %s): the program loads and passes a test frame\n", uts.release);
out:
	bpf_object__close(obj);
	return rc;
}

static int cmd_mount(struct ctx *c, struct args *a)
{
	int already, rc;

	if (a->npos)
		return fail(c, EXIT_USAGE, "mount takes no arguments");
	if ((rc = mount_bpffs(c, &already)) != EXIT_OK)
		return rc;
	if (c->json)
		printf("{\"ok\":true,\"command\":\"mount\",\"path\":\"%s\",\"already\":%s}\n", BPFFS_ROOT, already ? "true" : "false");
	else
		printf("%s: %s\n", BPFFS_ROOT, already ? "bpffs was already mounted" : "bpffs mounted");
	return EXIT_OK;
}

struct purge_state {
	int detached;
	char names[PIN_ENTRIES_MAX][IF_NAMESIZE];
};

static int purge_link_visit(struct ctx *c, struct link_pin *link, void *arg)
{
	struct purge_state *p = arg;

	if (link->fd >= 0 && link->ifindex && bpf_link_detach(link->fd) < 0)
		return fail(c, EXIT_FAILED, "bpf_link_detach(%s): %s", link->ifname, strerror(errno));
	if (link->ifindex && p->detached < PIN_ENTRIES_MAX)
		snprintf(p->names[p->detached++], IF_NAMESIZE, "%s", link->ifname);
	return EXIT_OK;
}

static int cmd_purge(struct ctx *c, struct args *a)
{
	struct purge_state *p = calloc(1, sizeof(*p));
	int rc, removed = 0;

	if (!p)
		return fail(c, EXIT_FAILED, "calloc: %s", strerror(errno));
	if (a->npos)
		rc = fail(c, EXIT_USAGE, "purge takes no arguments");
	else if (!(rc = need_caps(c, 1)) && !(rc = need_bpffs(c)) && !(rc = lock_pin_dir(c)))
		rc = for_each_link(c, purge_link_visit, p);
	DIR *dir = rc == EXIT_OK ? opendir(c->pin_dir) : NULL;
	struct dirent *entry;
	for (int n = 0; dir && (entry = readdir(dir)) && n < PIN_ENTRIES_MAX; n++) {
		char path[PATH_MAX];
		if (entry->d_name[0] == '.')
			continue;
		pin_path(c, entry->d_name, path);
		removed += unlink(path) == 0;
	}
	if (dir) {
		closedir(dir);
		if (rmdir(c->pin_dir) < 0)
			rc = fail(c, EXIT_FAILED, "rmdir(%s): %s", c->pin_dir, strerror(errno));
	}
	if (rc == EXIT_OK && c->json) {
		fputs("{\"ok\":true,\"command\":\"purge\",\"detached\":[", stdout);
		for (int i = 0; i < p->detached; i++) {
			if (i)
				putchar(',');
			json_string(p->names[i]);
		}
		printf("],\"removed\":%d}\n", removed);
	} else if (rc == EXIT_OK) {
		printf("purged %s: %d interface(s) detached, %d pin(s) removed\n", c->pin_dir, p->detached, removed);
	}
	free(p);
	return rc;
}

/* ---- help and dispatch -------------------------------------------------------------------------------- */

struct command {
	const char *name;
	int (*run)(struct ctx *, struct args *);
	const char *options; /* command options parse_args accepts */
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "mode", "attach IFACE [--mode native|generic|auto]",
	  "Loads the program (once; it stays pinned) and attaches it to IFACE through a pinned bpf_link.\n"
	  "--mode native needs driver support, generic works everywhere (slower), auto (default) tries native\n"
	  "first, then generic. Attaching again to an interface that has it is a no-op (\"already\": true).\n"
	  "Refuses (exit 7) when someone else's XDP program is on IFACE." },
	{ "detach", cmd_detach, "", "detach IFACE",
	  "Detaches our program from IFACE and removes its link pin; maps, blocklist and counters stay.\n"
	  "Refuses (exit 7) to touch someone else's program; \"detached\": false when nothing was attached." },
	{ "block", cmd_block, "ttl reason", "block MAC [--ttl SECONDS] [--reason CODE]",
	  "Drops every frame whose source is MAC, on every attached interface, counting the drops. With --ttl the\n"
	  "block lapses after SECONDS (1..31536000); --reason (a-z 0-9 . _ -, <16 chars, default manual) is kept\n"
	  "with the entry. Blocking again updates TTL and reason and keeps the drop count." },
	{ "unblock", cmd_unblock, "", "unblock MAC", "Removes MAC from the blocklist (\"was_blocked\": false if absent)." },
	{ "limit", cmd_limit, "ethertype udp-ports rate burst",
	  "limit [show] | limit set (--ethertype T | --udp-ports LO[-HI]) --rate PPS [--burst N] | limit clear [SELECTOR]",
	  "Per-source-MAC token buckets: a frame matching a rule (its ethertype after VLAN tags, or its IPv4/IPv6\n"
	  "UDP destination port) is dropped when its source MAC exceeds PPS frames per second with bursts of N\n"
	  "(default N = PPS). Up to 4 rules, first match wins; set replaces the rule with the same selector;\n"
	  "clear removes one rule, or all without a selector. Example: limit set --ethertype 0x4305 --rate 500" },
	{ "stats", cmd_stats, "", "stats [--json]",
	  "Totals and per-source-MAC counters (packets, bytes, drops by blocklist and by rate limit, batman-adv\n"
	  "frames, ms since last seen), summed over CPUs. Sources live in an LRU map of 1024 entries." },
	{ "status", cmd_status, "", "status [--json]",
	  "What is pinned: the program, attached interfaces (with mode), the blocklist with TTLs and drops, rate\n"
	  "limits with their counters, and map fill levels. Works (\"loaded\": false) before the first attach." },
	{ "probe", cmd_probe, "", "probe",
	  "Loads the program without pinning or attaching and runs it once on a test frame: exit 0 when BPF and\n"
	  "XDP work here, 9 when the kernel refuses BPF, 6 when the verifier rejects the program." },
	{ "mount", cmd_mount, "", "mount", "Mounts bpffs at /sys/fs/bpf (a no-op when it is mounted)." },
	{ "purge", cmd_purge, "", "purge",
	  "Detaches every interface, removes every pin and the pin directory: all state is gone." },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: x0-xdp [--json] [--pin-dir DIR] [--obj FILE] [--mount] [-v] COMMAND [ARGS]\n\n"
		     "x0tta6bl4's XDP data plane: per-source-MAC counters, a MAC blocklist and per-source rate limits,\n"
		     "pinned in bpffs so they outlive this helper and the agent (x0-xdp " X0_VERSION ").\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\n`x0-xdp COMMAND --help` says more about each.\n\n"
		     "options:\n"
		     "  --json        print one JSON object on stdout, for errors too (the agent's interface)\n"
		     "  --pin-dir DIR where programs, links and maps are pinned (default %s, or $X0_XDP_PIN_DIR)\n"
		     "  --obj FILE    load this BPF object instead of the built-in one, when nothing is pinned yet\n"
		     "                (or $X0_XDP_OBJ)\n"
		     "  --mount       mount bpffs at /sys/fs/bpf if it is not mounted\n"
		     "  -v            show libbpf's messages\n\n"
		     "exit codes, with the --json \"error\" code:\n"
		     "  0  ok\n"
		     "  1  failed              a system call failed (the message names it)\n"
		     "  2  usage               bad command line\n"
		     "  3  not-permitted       not root: needs CAP_BPF (+ CAP_NET_ADMIN to attach) or CAP_SYS_ADMIN\n"
		     "  4  bpffs-not-mounted   mount it: x0-xdp mount, or --mount\n"
		     "  5  unknown-interface   no such interface in this network namespace\n"
		     "  6  verifier-rejected   the kernel's verifier refused the program (its log is printed)\n"
		     "  7  interface-busy      another XDP program (not ours) is on the interface\n"
		     "  8  not-loaded          nothing pinned yet: attach (or block/limit) first\n"
		     "  9  bpf-unavailable     the kernel refuses BPF here\n"
		     "  10 map-full            blocklist or rate-limit rules full\n"
		     "  11 mode-unsupported    --mode native on a driver without native XDP\n"
		     "  12 locked              another x0-xdp kept the pin directory locked for 5 s\n",
		PIN_DIR_DEFAULT);
}

static int command_help(const struct command *cmd)
{
	printf("usage: x0-xdp [--json] %s\n\n%s\n", cmd->usage, cmd->help);
	return EXIT_OK;
}

/* Takes the global options out of argv (they may come anywhere); the rest is the command and its arguments. */
static int parse_globals(struct ctx *c, int argc, char **argv, char **rest, int *nrest, int *help)
{
	*nrest = 0;
	*help = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--json"))
			c->json = 1;
		else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose"))
			c->verbose = 1;
		else if (!strcmp(arg, "--mount"))
			c->mount = 1;
		else if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			*help = 1;
		else if (!strcmp(arg, "--pin-dir") || !strcmp(arg, "--obj")) {
			if (i + 1 >= argc)
				return fail(c, EXIT_USAGE, "%s needs a value", arg);
			*(strcmp(arg, "--obj") ? &c->pin_dir : &c->obj_path) = argv[++i];
		} else
			rest[(*nrest)++] = argv[i];
	}
	size_t n = strlen(c->pin_dir);
	if (c->pin_dir[0] != '/' || n < 2 || n > 200 || c->pin_dir[n - 1] == '/' || strstr(c->pin_dir, "/.."))
		return fail(c, EXIT_USAGE, "--pin-dir must be an absolute directory path like %s", PIN_DIR_DEFAULT);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctx c = { .pin_dir = getenv("X0_XDP_PIN_DIR") ? getenv("X0_XDP_PIN_DIR") : PIN_DIR_DEFAULT,
			 .obj_path = getenv("X0_XDP_OBJ"), .lock_fd = -1 };
	char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct args a;
	int nrest, help, rc;

	if (!rest)
		return EXIT_FAILED;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16); /* one write for a JSON answer where it fits */
	if ((rc = parse_globals(&c, argc, argv, rest, &nrest, &help)) != EXIT_OK)
		goto out;
	verbose_libbpf = c.verbose;
	libbpf_set_print(libbpf_print);
	if (nrest == 0) {
		usage(help ? stdout : stderr);
		rc = help ? EXIT_OK : fail(&c, EXIT_USAGE, "no command given");
		goto out;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(commands[i].name, rest[0]))
			cmd = &commands[i];
	if (!cmd) {
		rc = fail(&c, EXIT_USAGE, "unknown command '%s'; see x0-xdp --help", rest[0]);
		goto out;
	}
	if (help) {
		rc = command_help(cmd);
		goto out;
	}
	if ((rc = parse_args(&c, nrest - 1, rest + 1, cmd->options, &a)) == EXIT_OK)
		rc = cmd->run(&c, &a);
out:
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	free(rest);
	fflush(stdout);
	return rc;
}
