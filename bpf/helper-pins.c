// SPDX-License-Identifier: GPL-2.0
/* x0-xdp: the environment (capabilities, bpffs, the lock), the BPF object and its pinned state, per-CPU values,
 * interfaces and links. See helper.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include "helper.h"
#include "x0_xdp.skel.h"

/* ---- environment: capabilities, bpffs, lock ------------------------------------------------------------ */

static int has_cap(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data) < 0)
		return 0;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

int need_caps(struct ctx *c, int net_admin)
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

int mount_bpffs(struct ctx *c, int *already)
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
int need_bpffs(struct ctx *c)
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

int lock_pin_dir(struct ctx *c)
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
void fault_point(const char *name)
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

void pin_path(const struct ctx *c, const char *name, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/%s", c->pin_dir, name);
}

struct bpf_object *open_object(struct ctx *c, int pinned)
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
int load_object(struct ctx *c, struct bpf_object *obj, struct bpf_program **out)
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
		out_error(c, EXIT_VERIFIER, message, log);
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

int prog_id_of(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Returns a file descriptor of the pinned program, loading and pinning it (and its maps) first if needed. */
int ensure_loaded(struct ctx *c, int *prog_fd)
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

int open_map(struct ctx *c, const char *name, int *fd)
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

/* Common start of the commands that edit a map: checks, lock, loaded program, the map's descriptor. */
int open_for_edit(struct ctx *c, const char *map, int *fd)
{
	int rc, prog_fd;

	if ((rc = need_caps(c, 0)) || (rc = need_bpffs(c)) || (rc = lock_pin_dir(c)) || (rc = ensure_loaded(c, &prog_fd)))
		return rc;
	close(prog_fd);
	return open_map(c, map, fd);
}

int loaded(const struct ctx *c)
{
	char path[PATH_MAX];

	pin_path(c, PROG_PIN, path);
	return access(path, F_OK) == 0;
}

/* ---- per-CPU values ----------------------------------------------------------------------------------- */

int possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

void sum_sources(const struct x0_source *per_cpu, int ncpu, struct x0_source *out)
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

int read_totals(struct ctx *c, int fd, struct x0_totals *out)
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

int read_rule_stats(int fd, __u32 index, struct x0_rule_stats *out)
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

int zero_rule_stats(int fd, __u32 index)
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

const char *attach_mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

int resolve_iface(struct ctx *c, const char *ifname, int *ifindex)
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

/* Calls visit for every link_* pin. The file name carries the interface name at attach time; the link itself
 * knows the ifindex, which is what matches (an interface may have been renamed since). */
int for_each_link(struct ctx *c, int (*visit)(struct ctx *, struct link_pin *, void *), void *arg)
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
int find_link(struct ctx *c, __u32 ifindex, struct find_link *f)
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

int query_xdp(struct ctx *c, int ifindex, const char *ifname, struct bpf_xdp_query_opts *q)
{
	memset(q, 0, sizeof(*q));
	q->sz = sizeof(*q);
	if (bpf_xdp_query(ifindex, 0, q) < 0)
		return fail(c, EXIT_FAILED, "bpf_xdp_query(%s): %s", ifname, strerror(errno));
	return EXIT_OK;
}

int refuse_foreign(struct ctx *c, const char *ifname, const struct bpf_xdp_query_opts *q, const char *action)
{
	char name[BPF_OBJ_NAME_LEN + 1];

	prog_name_by_id(q->prog_id, name);
	return fail(c, EXIT_BUSY,
		    "%s already has an XDP program attached by someone else (prog id %u '%s', %s mode); x0-xdp will "
		    "not %s it: remove it first (e.g. `ip link set dev %s xdp off`)",
		    ifname, q->prog_id, name, attach_mode_name(q->attach_mode), action, ifname);
}
