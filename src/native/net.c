// x0:net — non-blocking BSD sockets for the JS side (UDP, TCP client and server, Unix-domain streams).
// Every socket is created O_NONBLOCK | O_CLOEXEC; JS drives the fds with os.setReadHandler/setWriteHandler.
// Operating errors come back as { error: 'ENAME' } (EAGAIN and EINPROGRESS are ordinary results); bad
// arguments throw TypeError/RangeError. Addresses are { host, port } with a numeric IPv4/IPv6 host (no DNS
// here), or { path } for a Unix socket.
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "x0.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))
// A non-blocking call interrupted by a signal is retried, a bounded number of times.
#define EINTR_RETRIES 8

static int get_string_choice(JSContext *ctx, JSValueConst val, const char *what, const char *const *names,
                             const int *values, size_t count, int *out)
{
    const char *s;
    if (!JS_IsString(val)) {
        JS_ThrowTypeError(ctx, "%s must be a string", what);
        return -1;
    }
    s = JS_ToCString(ctx, val);
    if (!s)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = values[i];
            JS_FreeCString(ctx, s);
            return 0;
        }
    }
    JS_ThrowTypeError(ctx, "%s: unknown value '%s'", what, s);
    JS_FreeCString(ctx, s);
    return -1;
}

static int get_unix_address(JSContext *ctx, JSValueConst path_val, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)ss;
    size_t path_len;
    const char *path;

    if (!JS_IsString(path_val)) {
        JS_ThrowTypeError(ctx, "address.path must be a string");
        return -1;
    }
    path = JS_ToCStringLen(ctx, &path_len, path_val);
    if (!path)
        return -1;
    if (path_len == 0 || path_len >= sizeof(sun->sun_path) || strlen(path) != path_len) {
        JS_ThrowRangeError(ctx, "address.path must be 1..%zu bytes without NUL, got %zu bytes",
                           sizeof(sun->sun_path) - 1, path_len);
        JS_FreeCString(ctx, path);
        return -1;
    }
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, path_len + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + 1);
    JS_FreeCString(ctx, path);
    return 0;
}

static int get_inet_address(JSContext *ctx, JSValueConst addr, JSValueConst host_val, struct sockaddr_storage *ss,
                            socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    JSValue port_val;
    uint32_t port;
    const char *host;
    int rc;

    if (!JS_IsString(host_val)) {
        JS_ThrowTypeError(ctx, "address.host must be a string");
        return -1;
    }
    port_val = JS_GetPropertyStr(ctx, addr, "port");
    rc = x0_get_uint(ctx, port_val, "address.port", 0, 65535, &port);
    JS_FreeValue(ctx, port_val);
    if (rc < 0)
        return -1;
    host = JS_ToCString(ctx, host_val);
    if (!host)
        return -1;
    memset(ss, 0, sizeof(*ss));
    // An IPv6 link-local address names its interface: "fe80::1%eth1" (RFC 4007 §11); the probe of one hard
    // interface (src/mapek/probe.ts) needs it. The scope is split off here, never passed to inet_pton.
    char numeric[INET6_ADDRSTRLEN];
    const char *scope = strchr(host, '%');
    size_t numeric_len = scope ? (size_t)(scope - host) : strlen(host);
    unsigned int scope_id = 0;
    if (numeric_len >= sizeof(numeric)) {
        JS_ThrowTypeError(ctx, "address.host '%s' is not a numeric IPv4 or IPv6 address", host);
        JS_FreeCString(ctx, host);
        return -1;
    }
    memcpy(numeric, host, numeric_len);
    numeric[numeric_len] = '\0';
    if (scope) {
        scope_id = if_nametoindex(scope + 1);
        if (scope_id == 0) {
            JS_ThrowTypeError(ctx, "address.host '%s': no interface '%s'", host, scope + 1);
            JS_FreeCString(ctx, host);
            return -1;
        }
    }
    if (!scope && inet_pton(AF_INET, numeric, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, numeric, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_scope_id = scope_id;
        *len = sizeof(*sin6);
    } else {
        JS_ThrowTypeError(ctx, "address.host '%s' is not a numeric IPv4 or IPv6 address", host);
        JS_FreeCString(ctx, host);
        return -1;
    }
    JS_FreeCString(ctx, host);
    return 0;
}

// { host, port } or { path } -> sockaddr. Throws on anything else.
static int get_address(JSContext *ctx, JSValueConst addr, struct sockaddr_storage *ss, socklen_t *len)
{
    JSValue field;
    int rc;

    if (!JS_IsObject(addr)) {
        JS_ThrowTypeError(ctx, "address must be an object { host, port } or { path }");
        return -1;
    }
    field = JS_GetPropertyStr(ctx, addr, "path");
    if (JS_IsException(field))
        return -1;
    if (!JS_IsUndefined(field)) {
        rc = get_unix_address(ctx, field, ss, len);
        JS_FreeValue(ctx, field);
        return rc;
    }
    field = JS_GetPropertyStr(ctx, addr, "host");
    if (JS_IsException(field))
        return -1;
    if (JS_IsUndefined(field)) {
        JS_ThrowTypeError(ctx, "address must be an object { host, port } or { path }");
        return -1;
    }
    rc = get_inet_address(ctx, addr, field, ss, len);
    JS_FreeValue(ctx, field);
    return rc;
}

static JSValue new_address(JSContext *ctx, const struct sockaddr_storage *ss, socklen_t len)
{
    char host[INET6_ADDRSTRLEN];
    JSValue obj = JS_NewObject(ctx);
    const struct sockaddr_un *sun = (const struct sockaddr_un *)ss;
    size_t path_len;

    if (JS_IsException(obj))
        return obj;
    if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
        const void *raw = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                                                   : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
        uint16_t port = ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                                 : ((const struct sockaddr_in6 *)ss)->sin6_port;
        char named[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
        char ifname[IF_NAMESIZE];
        unsigned int scope_id = ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_scope_id : 0;
        if (!inet_ntop(ss->ss_family, raw, host, sizeof(host)))
            host[0] = '\0';
        // A scoped (link-local) source comes back as "fe80::1%eth1", the form get_inet_address takes.
        if (scope_id != 0 && if_indextoname(scope_id, ifname))
            snprintf(named, sizeof(named), "%s%%%s", host, ifname);
        else
            snprintf(named, sizeof(named), "%s", host);
        JS_SetPropertyStr(ctx, obj, "host", JS_NewString(ctx, named));
        JS_SetPropertyStr(ctx, obj, "port", JS_NewInt32(ctx, ntohs(port)));
    } else if (ss->ss_family == AF_UNIX) {
        // An unnamed socket (the client end) has no path; the kernel's length says how much is there.
        path_len = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        path_len = strnlen(sun->sun_path, path_len);
        JS_SetPropertyStr(ctx, obj, "path", JS_NewStringLen(ctx, sun->sun_path, path_len));
    }
    return obj;
}

static JSValue ok_or_errno(JSContext *ctx, int rc)
{
    return rc < 0 ? x0_error_result(ctx, errno) : JS_NULL;
}

// socket(family: 'inet'|'inet6'|'unix', type: 'stream'|'dgram') -> fd | { error }
static JSValue x0_net_socket(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const family_names[] = { "inet", "inet6", "unix" };
    static const int family_values[] = { AF_INET, AF_INET6, AF_UNIX };
    static const char *const type_names[] = { "stream", "dgram" };
    static const int type_values[] = { SOCK_STREAM, SOCK_DGRAM };
    int family, type, fd;
    (void)this_val;
    (void)argc;

    if (get_string_choice(ctx, argv[0], "family", family_names, family_values, countof(family_values), &family) < 0)
        return JS_EXCEPTION;
    if (get_string_choice(ctx, argv[1], "type", type_names, type_values, countof(type_values), &type) < 0)
        return JS_EXCEPTION;
    fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return x0_error_result(ctx, errno);
    return JS_NewInt32(ctx, fd);
}

// bind(fd, address) -> null | { error }
static JSValue x0_net_bind(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 || get_address(ctx, argv[1], &ss, &len) < 0)
        return JS_EXCEPTION;
    return ok_or_errno(ctx, bind(fd, (struct sockaddr *)&ss, len));
}

// listen(fd, backlog) -> null | { error }
static JSValue x0_net_listen(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t backlog;
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 ||
        x0_get_uint(ctx, argv[1], "backlog", 1, X0_NET_BACKLOG_MAX, &backlog) < 0)
        return JS_EXCEPTION;
    return ok_or_errno(ctx, listen(fd, (int)backlog));
}

// accept(fd) -> { fd, peer } | { error }  (EAGAIN when no connection is waiting)
static JSValue x0_net_accept(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    JSValue obj;
    int fd, conn, tries = 0;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0)
        return JS_EXCEPTION;
    do {
        conn = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (conn < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (conn < 0)
        return x0_error_result(ctx, errno);
    obj = JS_NewObject(ctx);
    if (JS_IsException(obj)) {
        close(conn);
        return obj;
    }
    JS_SetPropertyStr(ctx, obj, "fd", JS_NewInt32(ctx, conn));
    JS_SetPropertyStr(ctx, obj, "peer", new_address(ctx, &ss, len));
    return obj;
}

// connect(fd, address) -> null | { error }  (EINPROGRESS: wait for writability, then read SO_ERROR)
static JSValue x0_net_connect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 || get_address(ctx, argv[1], &ss, &len) < 0)
        return JS_EXCEPTION;
    // An interrupted non-blocking connect carries on in the kernel; report it as in progress.
    if (connect(fd, (struct sockaddr *)&ss, len) < 0)
        return x0_error_result(ctx, errno == EINTR ? EINPROGRESS : errno);
    return JS_NULL;
}

// Reads the optional (offset, length) window of `data` at argv[first]; the pointer is fetched last.
static int get_window(JSContext *ctx, int argc, JSValueConst *argv, int data_index, int first,
                      const uint8_t **ptr, size_t *len)
{
    uint32_t offset = 0, length = UINT32_MAX;
    const uint8_t *base;
    size_t size;

    if (argc > first && !JS_IsUndefined(argv[first]) &&
        x0_get_uint(ctx, argv[first], "offset", 0, INT32_MAX, &offset) < 0)
        return -1;
    if (argc > first + 1 && !JS_IsUndefined(argv[first + 1]) &&
        x0_get_uint(ctx, argv[first + 1], "length", 0, INT32_MAX, &length) < 0)
        return -1;
    if (x0_get_bytes(ctx, argv[data_index], "data", &base, &size) < 0)
        return -1;
    if (offset > size) {
        JS_ThrowRangeError(ctx, "offset %u is past the end of data (%zu bytes)", offset, size);
        return -1;
    }
    if (length == UINT32_MAX)
        length = (uint32_t)(size - offset);
    if (length > size - offset) {
        JS_ThrowRangeError(ctx, "offset %u + length %u is past the end of data (%zu bytes)", offset, length, size);
        return -1;
    }
    *ptr = base + offset;
    *len = length;
    return 0;
}

// send(fd, data, offset?, length?) -> bytes sent | { error }
static JSValue x0_net_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *ptr;
    size_t len;
    ssize_t n;
    int fd, tries = 0;
    (void)this_val;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 || get_window(ctx, argc, argv, 1, 2, &ptr, &len) < 0)
        return JS_EXCEPTION;
    do {
        n = send(fd, ptr, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (n < 0)
        return x0_error_result(ctx, errno);
    return JS_NewInt64(ctx, n);
}

// sendto(fd, data, address, offset?, length?) -> bytes sent | { error }
static JSValue x0_net_sendto(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct sockaddr_storage ss;
    socklen_t addr_len;
    const uint8_t *ptr;
    size_t len;
    ssize_t n;
    int fd, tries = 0;
    (void)this_val;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 || get_address(ctx, argv[2], &ss, &addr_len) < 0 ||
        get_window(ctx, argc, argv, 1, 3, &ptr, &len) < 0)
        return JS_EXCEPTION;
    do {
        n = sendto(fd, ptr, len, MSG_NOSIGNAL, (struct sockaddr *)&ss, addr_len);
    } while (n < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (n < 0)
        return x0_error_result(ctx, errno);
    return JS_NewInt64(ctx, n);
}

// Receives into a js_malloc'ed buffer; with `from`, also the sender's address.
static JSValue receive(JSContext *ctx, JSValueConst *argv, bool with_address)
{
    struct sockaddr_storage ss;
    socklen_t addr_len = sizeof(ss);
    uint32_t max_bytes;
    uint8_t *buf;
    ssize_t n;
    int fd, err, tries = 0;
    JSValue data, obj;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 ||
        x0_get_uint(ctx, argv[1], "maxBytes", 1, X0_NET_RECV_BYTES_MAX, &max_bytes) < 0)
        return JS_EXCEPTION;
    buf = js_malloc(ctx, max_bytes);
    if (!buf)
        return JS_EXCEPTION;
    do {
        n = recvfrom(fd, buf, max_bytes, 0, with_address ? (struct sockaddr *)&ss : NULL,
                     with_address ? &addr_len : NULL);
    } while (n < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (n < 0) {
        err = errno;
        js_free(ctx, buf);
        return x0_error_result(ctx, err);
    }
    data = x0_uint8array_take(ctx, buf, (size_t)n);
    if (!with_address || JS_IsException(data))
        return data;
    obj = JS_NewObject(ctx);
    if (JS_IsException(obj)) {
        JS_FreeValue(ctx, data);
        return obj;
    }
    JS_SetPropertyStr(ctx, obj, "data", data);
    JS_SetPropertyStr(ctx, obj, "from", new_address(ctx, &ss, addr_len));
    return obj;
}

// recv(fd, maxBytes) -> Uint8Array (empty at end of stream) | { error }
static JSValue x0_net_recv(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    return receive(ctx, argv, false);
}

// recvfrom(fd, maxBytes) -> { data, from } | { error }
static JSValue x0_net_recvfrom(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    return receive(ctx, argv, true);
}

// getsockname(fd) / getpeername(fd) -> address | { error }
static JSValue x0_net_getsockname(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd, rc;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0)
        return JS_EXCEPTION;
    memset(&ss, 0, sizeof(ss));
    rc = magic ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return x0_error_result(ctx, errno);
    return new_address(ctx, &ss, len);
}

static const char *const option_names[] = {
    "SO_ERROR", "SO_REUSEADDR", "SO_BROADCAST", "SO_KEEPALIVE", "SO_RCVBUF", "SO_SNDBUF", "TCP_NODELAY",
    "IPV6_V6ONLY",
};
static const int option_values[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static const int option_levels[] = {
    SOL_SOCKET, SOL_SOCKET, SOL_SOCKET, SOL_SOCKET, SOL_SOCKET, SOL_SOCKET, IPPROTO_TCP, IPPROTO_IPV6,
};
static const int option_names_c[] = {
    SO_ERROR, SO_REUSEADDR, SO_BROADCAST, SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, IPV6_V6ONLY,
};

// getsockopt(fd, name) -> number | { error }; for 'SO_ERROR': null (no pending error) or the errno name
static JSValue x0_net_getsockopt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, option, value = 0;
    socklen_t len = sizeof(value);
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 ||
        get_string_choice(ctx, argv[1], "option", option_names, option_values, countof(option_values), &option) < 0)
        return JS_EXCEPTION;
    if (getsockopt(fd, option_levels[option], option_names_c[option], &value, &len) < 0)
        return x0_error_result(ctx, errno);
    if (option_names_c[option] == SO_ERROR && option_levels[option] == SOL_SOCKET)
        return value == 0 ? JS_NULL : JS_NewString(ctx, x0_errno_name(value));
    return JS_NewInt32(ctx, value);
}

// setsockopt(fd, name, value: number | boolean) -> null | { error }
static JSValue x0_net_setsockopt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, option, value;
    uint32_t number;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 ||
        get_string_choice(ctx, argv[1], "option", option_names, option_values, countof(option_values), &option) < 0)
        return JS_EXCEPTION;
    if (option_names_c[option] == SO_ERROR && option_levels[option] == SOL_SOCKET)
        return JS_ThrowTypeError(ctx, "SO_ERROR is read-only");
    if (JS_IsBool(argv[2])) {
        value = JS_ToBool(ctx, argv[2]);
    } else {
        if (x0_get_uint(ctx, argv[2], "value", 0, INT32_MAX, &number) < 0)
            return JS_EXCEPTION;
        value = (int)number;
    }
    return ok_or_errno(ctx, setsockopt(fd, option_levels[option], option_names_c[option], &value, sizeof(value)));
}

// shutdown(fd, how: 'read'|'write'|'both') -> null | { error }
static JSValue x0_net_shutdown(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    static const char *const how_names[] = { "read", "write", "both" };
    static const int how_values[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
    int fd, how;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 ||
        get_string_choice(ctx, argv[1], "how", how_names, how_values, countof(how_values), &how) < 0)
        return JS_EXCEPTION;
    return ok_or_errno(ctx, shutdown(fd, how));
}

// close(fd) -> null | { error }. Not retried on EINTR: on Linux the fd is gone either way.
static JSValue x0_net_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0)
        return JS_EXCEPTION;
    return ok_or_errno(ctx, close(fd));
}

static const JSCFunctionListEntry x0_net_funcs[] = {
    JS_CFUNC_DEF("socket", 2, x0_net_socket),
    JS_CFUNC_DEF("bind", 2, x0_net_bind),
    JS_CFUNC_DEF("listen", 2, x0_net_listen),
    JS_CFUNC_DEF("accept", 1, x0_net_accept),
    JS_CFUNC_DEF("connect", 2, x0_net_connect),
    JS_CFUNC_DEF("send", 4, x0_net_send),
    JS_CFUNC_DEF("sendto", 5, x0_net_sendto),
    JS_CFUNC_DEF("recv", 2, x0_net_recv),
    JS_CFUNC_DEF("recvfrom", 2, x0_net_recvfrom),
    JS_CFUNC_MAGIC_DEF("getsockname", 1, x0_net_getsockname, 0),
    JS_CFUNC_MAGIC_DEF("getpeername", 1, x0_net_getsockname, 1),
    JS_CFUNC_DEF("getsockopt", 2, x0_net_getsockopt),
    JS_CFUNC_DEF("setsockopt", 3, x0_net_setsockopt),
    JS_CFUNC_DEF("shutdown", 2, x0_net_shutdown),
    JS_CFUNC_DEF("close", 1, x0_net_close),
    JS_PROP_INT32_DEF("RECV_BYTES_MAX", X0_NET_RECV_BYTES_MAX, JS_PROP_CONFIGURABLE),
};

static int x0_net_init(JSContext *ctx, JSModuleDef *m)
{
    return JS_SetModuleExportList(ctx, m, x0_net_funcs, countof(x0_net_funcs));
}

JSModuleDef *x0_init_module_net(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, x0_net_init);
    if (!m)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, x0_net_funcs, countof(x0_net_funcs)) < 0)
        return NULL;
    return m;
}
