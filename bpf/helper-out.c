// SPDX-License-Identifier: GPL-2.0
/* x0-xdp: output (the one emitter every answer goes through) and argument parsing. See helper.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "helper.h"

/* Stable reason codes, indexed by exit code: the JSON "error" field. */
static const char *const error_codes[] = {
	"ok", "failed", "usage", "not-permitted", "bpffs-not-mounted", "unknown-interface", "verifier-rejected",
	"interface-busy", "not-loaded", "bpf-unavailable", "map-full", "mode-unsupported", "locked",
};

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

/* Starts an item in the innermost object or array: the comma before all but the first, then "key":. */
static void out_key(struct ctx *c, const char *key)
{
	if (c->out_depth > 0) {
		if (c->out_items[c->out_depth - 1])
			putchar(',');
		c->out_items[c->out_depth - 1] = 1;
	}
	if (key) {
		json_string(key);
		putchar(':');
	}
}

static void out_push(struct ctx *c, const char *key, char open, char close)
{
	if (c->out_depth == OUT_DEPTH_MAX) {
		/* A programmer error (the answers' shapes are fixed), not an operating one. */
		fprintf(stderr, "x0-xdp: output nested deeper than %d\n", OUT_DEPTH_MAX);
		abort();
	}
	out_key(c, key);
	putchar(open);
	c->out_closers[c->out_depth] = close;
	c->out_items[c->out_depth] = 0;
	c->out_depth++;
}

void out_close(struct ctx *c)
{
	if (!c->json || c->out_depth == 0)
		return;
	c->out_depth--;
	putchar(c->out_closers[c->out_depth]);
}

void out_begin(struct ctx *c, const char *command)
{
	if (!c->json)
		return;
	c->out_depth = 0;
	out_push(c, NULL, '{', '}');
	out_bool(c, "ok", 1);
	out_str(c, "command", command);
}

void out_end(struct ctx *c)
{
	if (!c->json)
		return;
	while (c->out_depth > 0)
		out_close(c);
	putchar('\n');
	c->answered++;
}

void out_object(struct ctx *c, const char *key)
{
	if (c->json)
		out_push(c, key, '{', '}');
}

void out_array(struct ctx *c, const char *key)
{
	if (c->json)
		out_push(c, key, '[', ']');
}

void out_str(struct ctx *c, const char *key, const char *value)
{
	if (!c->json)
		return;
	out_key(c, key);
	json_string(value);
}

void out_u64(struct ctx *c, const char *key, unsigned long long value)
{
	if (!c->json)
		return;
	out_key(c, key);
	printf("%llu", value);
}

void out_i64(struct ctx *c, const char *key, long long value)
{
	if (!c->json)
		return;
	out_key(c, key);
	printf("%lld", value);
}

void out_bool(struct ctx *c, const char *key, int value)
{
	if (!c->json)
		return;
	out_key(c, key);
	fputs(value ? "true" : "false", stdout);
}

void out_null(struct ctx *c, const char *key)
{
	if (!c->json)
		return;
	out_key(c, key);
	fputs("null", stdout);
}

void out_text(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void out_error(struct ctx *c, int code, const char *message, const char *verifier_log)
{
	if (!c->json)
		return;
	c->out_depth = 0;
	out_push(c, NULL, '{', '}');
	out_bool(c, "ok", 0);
	out_str(c, "error", error_codes[code]);
	out_i64(c, "exit", code);
	out_str(c, "message", message);
	if (verifier_log)
		out_str(c, "verifier_log", verifier_log);
	out_end(c);
}

int fail(struct ctx *c, int code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "x0-xdp: %s\n", message);
	out_error(c, code, message, NULL);
	return code;
}

void format_mac(const __u8 mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

__u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* ---- argument parsing --------------------------------------------------------------------------------- */

int parse_u64(const char *text, __u64 min, __u64 max, __u64 *out)
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

int parse_mac(const char *text, __u8 mac[6])
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

int parse_ports(const char *text, __u16 *lo, __u16 *hi)
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

int reason_valid(const char *reason)
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

int parse_args(struct ctx *c, int argc, char **argv, const char *allowed, struct args *a)
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
