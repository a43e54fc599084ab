// SPDX-License-Identifier: GPL-2.0
/* x0-xdp: rate limits (limit show|set|clear), stats and status. See helper.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

#define U64(x) ((unsigned long long)(x))

/* ---- rate limits -------------------------------------------------------------------------------------- */

int read_config(struct ctx *c, int fd, struct x0_config *config)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, config) < 0)
		return fail(c, EXIT_FAILED, "bpf_map_lookup_elem(x0_config): %s", strerror(errno));
	if (config->rule_count > X0_RULES_MAX)
		return fail(c, EXIT_FAILED, "x0_config holds %u rules, more than %d: run `x0-xdp limit clear`",
			    config->rule_count, X0_RULES_MAX);
	return EXIT_OK;
}

static void print_rule(struct ctx *c, const struct x0_rule *rule, __u32 index, const struct x0_rule_stats *stats)
{
	out_object(c, NULL);
	out_u64(c, "index", index);
	if (rule->match == X0_MATCH_ETHERTYPE) {
		char ethertype[8];
		snprintf(ethertype, sizeof(ethertype), "0x%04x", rule->ethertype);
		out_str(c, "match", "ethertype");
		out_str(c, "ethertype", ethertype);
		out_text(c, "  %u: ethertype %s", index, ethertype);
	} else {
		out_str(c, "match", "udp-dport");
		out_u64(c, "port_lo", rule->port_lo);
		out_u64(c, "port_hi", rule->port_hi);
		out_text(c, "  %u: udp dport %u-%u", index, rule->port_lo, rule->port_hi);
	}
	out_u64(c, "rate_pps", rule->rate_pps);
	out_u64(c, "burst", rule->burst);
	out_u64(c, "matched", stats->matched);
	out_u64(c, "dropped", stats->dropped);
	out_close(c);
	out_text(c, "  %u pps, burst %u  (matched %llu, dropped %llu)\n", rule->rate_pps, rule->burst,
		 U64(stats->matched), U64(stats->dropped));
}

/* The rules: the array "key" in JSON, lines for people. */
static void print_rules(struct ctx *c, const char *key, const struct x0_config *config, int stats_fd)
{
	if (config->rule_count == 0)
		out_text(c, "  (no rate limits)\n");
	out_array(c, key);
	for (__u32 i = 0; i < config->rule_count && i < X0_RULES_MAX; i++) {
		struct x0_rule_stats stats = { 0 };
		if (stats_fd >= 0)
			read_rule_stats(stats_fd, i, &stats);
		print_rule(c, &config->rules[i], i, &stats);
	}
	out_close(c);
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

int cmd_limit(struct ctx *c, struct args *a)
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
	out_begin(c, "limit");
	out_str(c, "action", action);
	out_text(c, "rate limits (per source MAC, first matching rule):\n");
	print_rules(c, "limits", &config, stats_fd);
	out_end(c);
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

static void print_totals(struct ctx *c, const struct x0_totals *t)
{
	out_object(c, "totals");
	out_u64(c, "packets", t->packets);
	out_u64(c, "bytes", t->bytes);
	out_u64(c, "passed", t->passed);
	out_u64(c, "dropped_blocked", t->dropped_blocked);
	out_u64(c, "dropped_rate", t->dropped_rate);
	out_u64(c, "batman_packets", t->batman_packets);
	out_u64(c, "malformed", t->malformed);
	out_u64(c, "counters_full", t->counters_full);
	out_u64(c, "blocks_expired", t->blocks_expired);
	out_close(c);
	out_text(c, "totals: %llu packets, %llu bytes, %llu passed, %llu dropped (blocked), %llu dropped (rate), "
		 "%llu batman-adv, %llu malformed\n",
		 U64(t->packets), U64(t->bytes), U64(t->passed), U64(t->dropped_blocked), U64(t->dropped_rate),
		 U64(t->batman_packets), U64(t->malformed));
}

static void print_source(struct ctx *c, const struct source_row *row, __u64 now_coarse)
{
	const struct x0_source *s = &row->sum;
	__u64 idle_ms = now_coarse > s->last_seen_ns ? (now_coarse - s->last_seen_ns) / 1000000ull : 0;
	char mac[18];

	format_mac(row->mac, mac);
	out_object(c, NULL);
	out_str(c, "mac", mac);
	out_u64(c, "packets", s->packets);
	out_u64(c, "bytes", s->bytes);
	out_u64(c, "drops", s->dropped_blocked + s->dropped_rate);
	out_u64(c, "dropped_blocked", s->dropped_blocked);
	out_u64(c, "dropped_rate", s->dropped_rate);
	out_u64(c, "batman_packets", s->batman_packets);
	out_u64(c, "idle_ms", idle_ms);
	out_close(c);
	out_text(c, "  %s %12llu %14llu %10llu %10llu %10llu %10llu\n", mac, U64(s->packets), U64(s->bytes),
		 U64(s->dropped_blocked), U64(s->dropped_rate), U64(s->batman_packets), U64(idle_ms));
}

int cmd_stats(struct ctx *c, struct args *a)
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
	out_begin(c, "stats");
	out_u64(c, "sources_max", X0_COUNTERS_MAX);
	print_totals(c, &totals);
	out_array(c, "sources");
	out_text(c, "  %-17s %12s %14s %10s %10s %10s %10s\n", "source", "packets", "bytes", "blocked", "rate-drop",
		 "batman", "idle-ms");
	for (int i = 0; i < count; i++)
		print_source(c, &rows[i], now_coarse);
	out_end(c);
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

	out_object(c, "maps");
	out_text(c, "maps:\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		__u32 entries, max_entries;
		if (count_entries(c, names[i], &entries, &max_entries) < 0)
			continue;
		out_object(c, names[i]);
		out_u64(c, "entries", entries);
		out_u64(c, "max_entries", max_entries);
		out_close(c);
		out_text(c, "  %-14s %6u / %u\n", names[i], entries, max_entries);
	}
	out_close(c);
}

static int print_link_visit(struct ctx *c, struct link_pin *link, void *arg)
{
	int *printed = arg;
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	const char *mode = "none";

	if (link->ifindex && bpf_xdp_query((int)link->ifindex, 0, &q) == 0)
		mode = attach_mode_name(q.attach_mode);
	const char *state = link->ifindex ? "attached" : "defunct";
	out_object(c, NULL);
	out_str(c, "ifname", link->ifname);
	out_u64(c, "ifindex", link->ifindex);
	out_str(c, "mode", mode);
	out_u64(c, "prog_id", link->prog_id);
	out_u64(c, "link_id", link->link_id);
	out_str(c, "state", state);
	out_close(c);
	out_text(c, "  %-16s ifindex %u, %s mode, prog id %u, link id %u, %s\n", link->ifname, link->ifindex, mode,
		 link->prog_id, link->link_id, state);
	(*printed)++;
	return EXIT_OK;
}

static void print_block(struct ctx *c, const struct x0_mac_key *key, const struct x0_block *value, __u64 now)
{
	char mac[18], reason[X0_REASON_BYTES];
	__u64 age_s = now > value->added_ns ? (now - value->added_ns) / 1000000000ull : 0;
	__u64 ttl_s = value->expires_ns ? (value->expires_ns - now + 999999999ull) / 1000000000ull : 0;

	format_mac(key->mac, mac);
	memcpy(reason, value->reason, sizeof(reason));
	reason[sizeof(reason) - 1] = 0;
	out_object(c, NULL);
	out_str(c, "mac", mac);
	out_str(c, "reason", reason);
	out_u64(c, "drops", value->drops);
	out_u64(c, "age_s", age_s);
	if (value->expires_ns)
		out_u64(c, "ttl_s", ttl_s);
	else
		out_null(c, "ttl_s");
	out_close(c);
	out_text(c, "  %s  %-15s drops %llu, age %llu s, ", mac, reason, U64(value->drops), U64(age_s));
	if (value->expires_ns)
		out_text(c, "expires in %llu s\n", U64(ttl_s));
	else
		out_text(c, "no expiry\n");
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

	out_array(c, "blocklist");
	out_text(c, "blocklist:\n");
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
		print_block(c, &rows[i].key, &rows[i].value, now);
	free(rows);
	out_close(c);
	out_i64(c, "blocklist_expired", expired);
	if (count == 0)
		out_text(c, "  (empty)\n");
}

static void print_program(struct ctx *c)
{
	char path[PATH_MAX];
	struct bpf_prog_info info;

	pin_path(c, PROG_PIN, path);
	int fd = bpf_obj_get(path);
	if (fd < 0 || prog_id_of(fd, &info) < 0) {
		out_null(c, "program");
		out_text(c, "program: not loaded\n");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	char tag[2 * BPF_TAG_SIZE + 1];
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	/* run_cnt and run_time_ns count only while someone holds BPF stats on (sysctl kernel.bpf_stats_enabled). */
	out_object(c, "program");
	out_u64(c, "id", info.id);
	out_str(c, "name", info.name);
	out_str(c, "tag", tag);
	out_u64(c, "run_cnt", info.run_cnt);
	out_u64(c, "run_time_ns", info.run_time_ns);
	out_close(c);
	out_text(c, "program: %s, id %u, tag %s, %llu runs, %llu ns\n", info.name, info.id, tag, U64(info.run_cnt),
		 U64(info.run_time_ns));
}

int cmd_status(struct ctx *c, struct args *a)
{
	struct x0_config config = { 0 };
	int blocklist_fd = -1, config_fd = -1, stats_fd = -1, links = 0, rc;

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
	out_begin(c, "status");
	out_str(c, "version", X0_VERSION);
	out_str(c, "pin_dir", c->pin_dir);
	out_bool(c, "loaded", is_loaded);
	out_text(c, "x0-xdp %s, pinned under %s: %s\n", X0_VERSION, c->pin_dir, is_loaded ? "loaded" : "not loaded");
	print_program(c);
	out_array(c, "interfaces");
	out_text(c, "interfaces:\n");
	for_each_link(c, print_link_visit, &links);
	out_close(c);
	if (links == 0)
		out_text(c, "  (none)\n");
	print_blocklist(c, blocklist_fd);
	out_text(c, "rate limits:\n");
	print_rules(c, "limits", &config, stats_fd);
	print_maps(c);
	out_end(c);
	if (blocklist_fd >= 0)
		close(blocklist_fd);
	if (config_fd >= 0)
		close(config_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return EXIT_OK;
}
