// SPDX-License-Identifier: GPL-2.0
/* x0-xdp: loads x0tta6bl4's XDP program (x0_xdp.bpf.c), attaches it to interfaces and edits its maps.
 * Everything lives pinned in bpffs under one directory (default /sys/fs/bpf/x0tta6bl4), so the data plane and
 * its state survive this helper and the agent restarting; each run is short and stateless (`serve` answers many
 * commands in one process, for the agent: each is still run as its own, with nothing kept between). With --json every
 * command prints one JSON object on stdout (errors too: {"ok":false,"error":CODE,...}); that is the agent's
 * interface (src/xdp/). Exit codes are listed in usage() and bpf/README.md. This file holds the commands that
 * attach, detach and block, probe/mount/purge, and the dispatch; helper.h lists the other files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/if_link.h>
#include "helper.h"

static int verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Our own messages name the failed call; libbpf's (and its copy of the verifier log) only with -v. */
	if (!verbose_libbpf || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
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
	out_begin(c, "attach");
	out_str(c, "ifname", ifname); /* interface names may hold quotes */
	out_i64(c, "ifindex", ifindex);
	out_str(c, "mode", mode);
	out_u64(c, "prog_id", prog_id);
	out_u64(c, "link_id", link_id);
	out_bool(c, "already", already);
	out_str(c, "pin_dir", c->pin_dir);
	out_end(c);
	out_text(c, "%s: %s (%s mode, prog id %u, link id %u, pinned under %s)\n", ifname,
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
	out_begin(c, "detach");
	out_str(c, "ifname", a->pos[0]);
	out_bool(c, "detached", f.have);
	out_end(c);
	out_text(c, "%s: %s\n", a->pos[0], f.have ? "detached" : "was not attached");
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

/* Blocks one MAC or several in one run (each run of the helper costs a process start and the pin lock, seconds on
 * a starved router): every MAC is checked before anything changes; the answer lists each with "already". */
static int cmd_block(struct ctx *c, struct args *a)
{
	struct x0_mac_key keys[ARGS_POSITIONAL_MAX];
	int already[ARGS_POSITIONAL_MAX];
	struct x0_block value = { 0 }, old;
	const char *reason = a->reason ? a->reason : "manual";
	__u64 ttl = 0;
	char mac[18];
	int fd, rc;

	if (a->npos < 1)
		return fail(c, EXIT_USAGE, "block needs a MAC address like 02:00:5e:10:00:01: x0-xdp block MAC... [--ttl S] [--reason CODE]");
	for (int i = 0; i < a->npos; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		if (parse_mac(a->pos[i], keys[i].mac) < 0)
			return fail(c, EXIT_USAGE, "not a MAC address: '%s' (like 02:00:5e:10:00:01); nothing was blocked", a->pos[i]);
	}
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
	for (int i = 0; i < a->npos; i++) {
		already[i] = bpf_map_lookup_elem(fd, &keys[i], &old) == 0;
		memset(&value, 0, sizeof(value));
		value.added_ns = already[i] ? old.added_ns : now;
		value.drops = already[i] ? old.drops : 0;
		value.expires_ns = ttl ? now + ttl * 1000000000ull : 0;
		snprintf(value.reason, sizeof(value.reason), "%s", reason);
		if (bpf_map_update_elem(fd, &keys[i], &value, BPF_ANY) < 0) {
			int err = errno;
			close(fd);
			if (err == E2BIG || err == ENOMEM)
				return fail(c, EXIT_FULL, "the blocklist is full (%d entries): %d of %d MACs blocked; unblock some first",
					    X0_BLOCKLIST_MAX, i, a->npos);
			return fail(c, EXIT_FAILED, "bpf_map_update_elem(x0_blocklist): %s (%d of %d MACs blocked)", strerror(err), i,
				    a->npos);
		}
	}
	close(fd);
	out_begin(c, "block");
	if (a->npos == 1) {
		format_mac(keys[0].mac, mac);
		out_str(c, "mac", mac);
	}
	out_str(c, "reason", value.reason);
	if (ttl)
		out_u64(c, "ttl_s", ttl);
	else
		out_null(c, "ttl_s");
	if (a->npos == 1)
		out_bool(c, "already", already[0]);
	out_array(c, "macs");
	for (int i = 0; i < a->npos; i++) {
		format_mac(keys[i].mac, mac);
		out_object(c, NULL);
		out_str(c, "mac", mac);
		out_bool(c, "already", already[i]);
		out_close(c);
		out_text(c, "%s: blocked (%s, %s)\n", mac, reason, ttl ? "with a TTL" : "no expiry");
	}
	out_close(c);
	out_end(c);
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
	out_begin(c, "unblock");
	out_str(c, "mac", mac);
	out_bool(c, "was_blocked", was);
	out_end(c);
	out_text(c, "%s: %s\n", mac, was ? "unblocked" : "was not blocked");
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
	out_begin(c, "probe");
	out_str(c, "kernel", uts.release);
	out_str(c, "test_run", "XDP_PASS");
	out_end(c);
	out_text(c, "BPF and XDP work here (kernel %s): the program loads and passes a test frame\n", uts.release);
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
	out_begin(c, "mount");
	out_str(c, "path", BPFFS_ROOT);
	out_bool(c, "already", already);
	out_end(c);
	out_text(c, "%s: %s\n", BPFFS_ROOT, already ? "bpffs was already mounted" : "bpffs mounted");
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
	if (rc == EXIT_OK) {
		out_begin(c, "purge");
		out_array(c, "detached");
		for (int i = 0; i < p->detached; i++)
			out_str(c, NULL, p->names[i]);
		out_close(c);
		out_i64(c, "removed", removed);
		out_end(c);
		out_text(c, "purged %s: %d interface(s) detached, %d pin(s) removed\n", c->pin_dir, p->detached, removed);
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

static int cmd_serve(struct ctx *c, struct args *a);

static const struct command commands[] = {
	{ "attach", cmd_attach, "mode", "attach IFACE [--mode native|generic|auto]",
	  "Loads the program (once; it stays pinned) and attaches it to IFACE through a pinned bpf_link.\n"
	  "--mode native needs driver support, generic works everywhere (slower), auto (default) tries native\n"
	  "first, then generic. Attaching again to an interface that has it is a no-op (\"already\": true).\n"
	  "Refuses (exit 7) when someone else's XDP program is on IFACE." },
	{ "detach", cmd_detach, "", "detach IFACE",
	  "Detaches our program from IFACE and removes its link pin; maps, blocklist and counters stay.\n"
	  "Refuses (exit 7) to touch someone else's program; \"detached\": false when nothing was attached." },
	{ "block", cmd_block, "ttl reason", "block MAC... [--ttl SECONDS] [--reason CODE]",
	  "Drops every frame whose source is MAC, on every attached interface, counting the drops. With --ttl the\n"
	  "block lapses after SECONDS (1..31536000); --reason (a-z 0-9 . _ -, <16 chars, default manual) is kept\n"
	  "with the entry. Blocking again updates TTL and reason and keeps the drop count. Up to 64 MACs in one\n"
	  "run, all checked before any is blocked; \"macs\" lists each with \"already\"." },
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
	{ "serve", cmd_serve, "", "serve",
	  "Reads commands from stdin, one per line (a command and its arguments as on the command line, separated\n"
	  "by spaces, at most " SERVE_LINE_MAX_TEXT " bytes; no global options), and answers each with one JSON line on\n"
	  "stdout, flushed, until stdin ends. Its first line is {\"ok\":true,\"command\":\"serve\",\"version\":...}. The agent keeps one running instead of starting a process per\n"
	  "command. Each command runs as it would alone (pins opened, lock taken and released, nothing cached), so\n"
	  "another x0-xdp sees the same state. stderr is closed unless -v. Example: echo stats | x0-xdp --json serve" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Runs one line of `serve`: words split at spaces and tabs, a fresh context from the serve's own (its pin
 * directory and flags), the lock released after. Always answers exactly one JSON line. */
static void serve_line(const struct ctx *base, char *line)
{
	struct ctx one = { .pin_dir = base->pin_dir, .obj_path = base->obj_path, .json = 1,
			   .verbose = base->verbose, .mount = base->mount, .lock_fd = -1 };
	char *words[SERVE_WORDS_MAX];
	int n = 0;
	struct args a;

	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != ' ' && *p != '\t') {
			fail(&one, EXIT_USAGE, "a command line holds printable characters only (byte 0x%02x)", (unsigned char)*p);
			return;
		}
	for (char *save = NULL, *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == SERVE_WORDS_MAX) {
			fail(&one, EXIT_USAGE, "more than %d words in one command line", SERVE_WORDS_MAX);
			return;
		}
		words[n++] = w;
	}
	const struct command *cmd = n ? find_command(words[0]) : NULL;
	if (!n)
		fail(&one, EXIT_USAGE, "an empty command line; one command per line, like: stats");
	else if (!cmd || cmd->run == cmd_serve)
		fail(&one, EXIT_USAGE, "unknown command '%s' for serve; see x0-xdp --help", words[0]);
	else if (parse_args(&one, n - 1, words + 1, cmd->options, &a) == EXIT_OK) {
		int rc = cmd->run(&one, &a);
		if (!one.answered) /* a path that returned without an answer: still one line per command */
			fail(&one, rc == EXIT_OK ? EXIT_FAILED : rc, "%s gave no answer", words[0]);
	}
	if (one.lock_fd >= 0)
		close(one.lock_fd);
}

static int cmd_serve(struct ctx *c, struct args *a)
{
	char line[SERVE_LINE_MAX + 2]; /* the line, its newline and the terminator */

	if (a->npos)
		return fail(c, EXIT_USAGE, "serve takes no arguments: it reads commands from stdin, one per line");
	if (!c->json)
		return fail(c, EXIT_USAGE, "serve answers in JSON only: x0-xdp --json serve");
	if (!c->verbose) {
		/* Nobody reads stderr here: a full pipe would stop the helper. Every error is in the JSON answer. */
		int null_fd = open("/dev/null", O_WRONLY);
		if (null_fd >= 0) {
			dup2(null_fd, STDERR_FILENO);
			close(null_fd);
		}
	}
	/* A first line that says a serve is listening, so a caller tells it from an older helper's usage error. */
	out_begin(c, "serve");
	out_str(c, "version", X0_VERSION);
	out_i64(c, "line_max", SERVE_LINE_MAX);
	out_end(c);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		else if (!feof(stdin)) {
			int ch;
			while ((ch = getchar()) != EOF && ch != '\n')
				;
			fail(c, EXIT_USAGE, "a command line is at most %d bytes", SERVE_LINE_MAX);
			fflush(stdout);
			continue;
		}
		serve_line(c, line);
		if (fflush(stdout) == EOF)
			break; /* the reader is gone */
	}
	return EXIT_OK;
}

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
	const struct command *cmd = find_command(rest[0]);
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
