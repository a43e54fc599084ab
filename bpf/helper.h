// SPDX-License-Identifier: GPL-2.0
/* What the x0-xdp helper's files share: exit codes, the run's context, the output emitter and the functions one
 * file offers another. The files follow the helper's sections:
 *   x0-xdp.c       commands (attach, detach, block, unblock, probe, mount, purge), help and dispatch, main
 *   helper-out.c   output (the one emitter: JSON with --json, a line for people otherwise) and argument parsing
 *   helper-pins.c  environment (capabilities, bpffs, lock), the object and its pinned state, per-CPU values,
 *                  interfaces and links
 *   helper-show.c  rate limits, stats and status */
#ifndef X0_XDP_HELPER_H
#define X0_XDP_HELPER_H

#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "x0_xdp.h"

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
#define ARGS_POSITIONAL_MAX 64 /* block takes up to this many MACs in one run */
#define SERVE_LINE_MAX 4096 /* serve: bytes in one command line (64 MACs and options fit in 1.3 KiB) */
#define SERVE_LINE_MAX_TEXT "4096"
#define SERVE_WORDS_MAX (ARGS_POSITIONAL_MAX + 16) /* serve: a command, its positionals and options */
#define OUT_DEPTH_MAX 8 /* nesting of the JSON answers: status is 3 deep */

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

struct ctx {
	const char *pin_dir;
	const char *obj_path; /* NULL: the object built into this binary */
	int json;
	int verbose;
	int mount;   /* --mount: mount bpffs at /sys/fs/bpf when it is missing */
	int lock_fd; /* flock on the pin directory, held by commands that change state */
	int answered; /* answers ended by out_end (serve checks each command gave exactly one) */
	/* The emitter's place in the JSON answer: open objects/arrays, and whether each already has an item. */
	int out_depth;
	char out_closers[OUT_DEPTH_MAX]; /* '}' or ']' */
	unsigned char out_items[OUT_DEPTH_MAX];
};

struct args {
	int npos;
	const char *pos[ARGS_POSITIONAL_MAX];
	const char *mode, *ttl, *reason, *ethertype, *udp_ports, *rate, *burst;
};

/* ---- output (helper-out.c) ---------------------------------------------------------------------------------
 * Each answer is written once, as fields: with --json they form one JSON object on stdout ({"ok":true,
 * "command":...}, keys in call order, strings escaped, commas and nesting kept by the emitter); without it the
 * field calls print nothing and out_text() gives the line for people. A NULL key is an array element. */
void out_begin(struct ctx *c, const char *command);
void out_end(struct ctx *c);
void out_object(struct ctx *c, const char *key);
void out_array(struct ctx *c, const char *key);
void out_close(struct ctx *c); /* ends the innermost object or array */
void out_str(struct ctx *c, const char *key, const char *value);
void out_u64(struct ctx *c, const char *key, unsigned long long value);
void out_i64(struct ctx *c, const char *key, long long value);
void out_bool(struct ctx *c, const char *key, int value);
void out_null(struct ctx *c, const char *key);
__attribute__((format(printf, 2, 3))) void out_text(struct ctx *c, const char *fmt, ...);
/* The error answer ({"ok":false,"error":CODE,"exit":N,"message":...}), also with the verifier's log. */
void out_error(struct ctx *c, int code, const char *message, const char *verifier_log);
/* Says why on stderr (and as the JSON answer with --json) and returns code. */
__attribute__((format(printf, 3, 4))) int fail(struct ctx *c, int code, const char *fmt, ...);
void format_mac(const __u8 mac[6], char out[18]);
__u64 clock_ns(clockid_t clock);

/* ---- argument parsing (helper-out.c) ------------------------------------------------------------------------ */
int parse_u64(const char *text, __u64 min, __u64 max, __u64 *out);
int parse_mac(const char *text, __u8 mac[6]);
int parse_ports(const char *text, __u16 *lo, __u16 *hi);
int reason_valid(const char *reason);
/* Fills a from argv: positionals, and --name VALUE / --name=VALUE for the names in allowed (space separated). */
int parse_args(struct ctx *c, int argc, char **argv, const char *allowed, struct args *a);

/* ---- environment, object, per-CPU values, interfaces and links (helper-pins.c) ----------------------------- */
int need_caps(struct ctx *c, int net_admin);
int mount_bpffs(struct ctx *c, int *already);
int need_bpffs(struct ctx *c);
int lock_pin_dir(struct ctx *c);
void fault_point(const char *name);
void pin_path(const struct ctx *c, const char *name, char out[PATH_MAX]);
struct bpf_object *open_object(struct ctx *c, int pinned);
int load_object(struct ctx *c, struct bpf_object *obj, struct bpf_program **out);
int prog_id_of(int fd, struct bpf_prog_info *info);
int ensure_loaded(struct ctx *c, int *prog_fd);
int open_map(struct ctx *c, const char *name, int *fd);
/* Common start of the commands that edit a map: checks, lock, loaded program, the map's descriptor. */
int open_for_edit(struct ctx *c, const char *map, int *fd);
int loaded(const struct ctx *c);
int possible_cpus(void);
void sum_sources(const struct x0_source *per_cpu, int ncpu, struct x0_source *out);
int read_totals(struct ctx *c, int fd, struct x0_totals *out);
int read_rule_stats(int fd, __u32 index, struct x0_rule_stats *out);
int zero_rule_stats(int fd, __u32 index);
const char *attach_mode_name(__u8 mode);
int resolve_iface(struct ctx *c, const char *ifname, int *ifindex);

struct link_pin {
	char name[NAME_MAX + 1]; /* file name under the pin directory */
	char ifname[IF_NAMESIZE];
	int fd;
	__u32 link_id;
	__u32 prog_id;
	__u32 ifindex; /* 0: the interface is gone (defunct link) */
};

struct find_link {
	__u32 ifindex;
	struct link_pin found;
	int have;
};

/* Calls visit for every link_* pin (the link's ifindex is what matches: an interface may have been renamed). */
int for_each_link(struct ctx *c, int (*visit)(struct ctx *, struct link_pin *, void *), void *arg);
/* Our pinned link on ifindex, if any (its fd must be closed by the caller). Removes defunct pins on the way. */
int find_link(struct ctx *c, __u32 ifindex, struct find_link *f);
int query_xdp(struct ctx *c, int ifindex, const char *ifname, struct bpf_xdp_query_opts *q);
int refuse_foreign(struct ctx *c, const char *ifname, const struct bpf_xdp_query_opts *q, const char *action);

/* ---- rate limits, stats and status (helper-show.c) --------------------------------------------------------- */
int read_config(struct ctx *c, int fd, struct x0_config *config);
int cmd_limit(struct ctx *c, struct args *a);
int cmd_stats(struct ctx *c, struct args *a);
int cmd_status(struct ctx *c, struct args *a);

#endif
