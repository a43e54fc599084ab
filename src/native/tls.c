// x0:tls — a TLS client over a connected, non-blocking TCP socket, with mbedtls (the TLS library OpenWrt
// ships). The server's certificate is verified against the CA certificates JS hands over (PEM or DER bytes; JS
// reads the files), against the server name (also sent as SNI), with an optional client certificate and key.
// JS drives it like a socket: handshake/read/write return 'want-read' / 'want-write' when the socket would
// block, and JS waits for that readiness with os.setReadHandler/setWriteHandler. The fd stays JS's to close.
// Failures are { error: REASON, detail: TEXT } with stable reasons: cert-untrusted, cert-expired,
// cert-not-yet-valid, hostname-mismatch, handshake-failed, tls-ca-invalid, tls-cert-invalid, tls-key-invalid,
// or an errno name from the socket (ECONNRESET, ...). Built without mbedtls (TLS=0), the module still exists:
// `available` is false and client() returns { error: 'tls-unavailable' }.
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "x0.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

#ifdef X0_TLS

#if defined(__has_include) && !__has_include(<mbedtls/ssl.h>)
#error "x0:tls needs mbedtls' headers: apt-get install libmbedtls-dev (scripts/apt-packages/tls.txt), or build with TLS=0"
#endif

#include <sodium.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

// Bound on what JS may hand over: a CA bundle (Debian's whole ca-certificates.crt is ~200 KB), a chain, a key.
#define X0_TLS_PEM_BYTES_MAX (1u << 20)
#define X0_TLS_SERVER_NAME_MAX 253
#define EINTR_RETRIES 8

struct tls_conn {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    int fd;
    int sys_errno; // the socket's errno when the BIO failed with something other than EAGAIN
    bool handshake_done;
    unsigned char ip[16]; // the server name as an address (4 or 16 bytes; ip_len 0: a DNS name)
    size_t ip_len;
};

static JSClassID tls_class_id;

static void tls_conn_free(struct tls_conn *c)
{
    if (!c)
        return;
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_x509_crt_free(&c->cert);
    mbedtls_pk_free(&c->key);
    free(c);
}

static void tls_finalizer(JSRuntime *rt, JSValue val)
{
    (void)rt;
    tls_conn_free(JS_GetOpaque(val, tls_class_id));
}

static JSClassDef tls_class = { .class_name = "TlsConnection", .finalizer = tls_finalizer };

// libsodium's CSPRNG: already linked and seeded from the kernel; no entropy/CTR-DRBG code to carry.
static int tls_random(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    randombytes_buf(out, len);
    return 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;
    ssize_t n;
    int tries = 0;
    do {
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    c->sys_errno = errno;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;
    ssize_t n;
    int tries = 0;
    do {
        n = recv(c->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR && ++tries < EINTR_RETRIES);
    if (n >= 0)
        return (int)n; // 0: the peer closed the TCP stream (mbedtls reports MBEDTLS_ERR_SSL_CONN_EOF)
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return MBEDTLS_ERR_SSL_WANT_READ;
    c->sys_errno = errno;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

// { error: reason, detail } — detail is mbedtls' own text for the code, or the verification flags' text.
static JSValue tls_error(JSContext *ctx, const char *reason, const char *detail)
{
    JSValue obj = JS_NewObject(ctx);
    if (JS_IsException(obj))
        return obj;
    JS_SetPropertyStr(ctx, obj, "error", JS_NewString(ctx, reason));
    JS_SetPropertyStr(ctx, obj, "detail", JS_NewString(ctx, detail));
    return obj;
}

static JSValue tls_error_code(JSContext *ctx, const char *reason, int code)
{
    char text[160];
    mbedtls_strerror(code, text, sizeof(text));
    return tls_error(ctx, reason, text);
}

// A failed handshake: a certificate the verifier refused names why (the most basic failure first: an untrusted
// chain says nothing about its dates or names); a socket error is its errno name; anything else is
// handshake-failed with mbedtls' text.
static JSValue handshake_error(JSContext *ctx, struct tls_conn *c, int code)
{
    uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
    char text[256];
    const char *reason;

    if (c->sys_errno != 0)
        return tls_error(ctx, x0_errno_name(c->sys_errno), strerror(c->sys_errno));
    if (code != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || flags == 0 || flags == (uint32_t)-1)
        return tls_error_code(ctx, "handshake-failed", code);
    if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING | MBEDTLS_X509_BADCERT_REVOKED))
        reason = "cert-untrusted";
    else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        reason = "cert-expired";
    else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        reason = "cert-not-yet-valid";
    else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        reason = "hostname-mismatch";
    else
        reason = "cert-untrusted"; // bad key usage, weak signature, ...: not a certificate we may trust
    if (mbedtls_x509_crt_verify_info(text, sizeof(text), "", flags) < 0)
        snprintf(text, sizeof(text), "verification flags 0x%x", (unsigned)flags);
    // verify_info ends each line with '\n'; one line reads better in a log.
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = *(p + 1) ? ';' : '\0';
    return tls_error(ctx, reason, text);
}

#if MBEDTLS_VERSION_NUMBER < 0x03000000
// mbedtls 2.28 matches the server name against the certificate's DNS names and CN only. A broker named by its
// address (x0-runtime has no DNS resolver, so that is the common case) is matched here against the leaf's
// iPAddress names (RFC 5280 §4.2.1.6: 4 or 16 bytes), as OpenSSL and mbedtls 3 do.
static int verify_ip_name(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const struct tls_conn *c = ctx;
    const int tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS;

    if (depth != 0)
        return 0;
    for (const mbedtls_x509_sequence *san = &crt->subject_alt_names; san != NULL && san->buf.p != NULL;
         san = san->next) {
        if (san->buf.tag == tag && san->buf.len == c->ip_len && memcmp(san->buf.p, c->ip, c->ip_len) == 0)
            return 0;
    }
    *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}
#endif

// The server name, after mbedtls_ssl_setup: a DNS name goes to mbedtls (SNI and the name check). On mbedtls 2 an
// address is checked by its bytes in verify_ip_name (set on the configuration before setup) and no SNI is sent
// (RFC 6066 §3 allows host names only); mbedtls 3 checks an address given as the host name itself.
static void note_ip_name(struct tls_conn *c, const char *name)
{
    if (inet_pton(AF_INET, name, c->ip) == 1)
        c->ip_len = 4;
    else if (inet_pton(AF_INET6, name, c->ip) == 1)
        c->ip_len = 16;
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    if (c->ip_len != 0)
        mbedtls_ssl_conf_verify(&c->conf, verify_ip_name, c);
#endif
}

static int set_server_name(struct tls_conn *c, const char *name)
{
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    if (c->ip_len != 0)
        return 0;
#endif
    return mbedtls_ssl_set_hostname(&c->ssl, name);
}

// Copies bytes to a NUL-terminated buffer (mbedtls' PEM parser wants the NUL counted in the length).
static unsigned char *nul_terminated(JSContext *ctx, JSValueConst val, const char *what, size_t *len)
{
    const uint8_t *ptr;
    size_t n;
    unsigned char *buf;

    if (x0_get_bytes(ctx, val, what, &ptr, &n) < 0)
        return NULL;
    if (n == 0 || n > X0_TLS_PEM_BYTES_MAX) {
        JS_ThrowRangeError(ctx, "%s must be 1..%u bytes, got %zu", what, X0_TLS_PEM_BYTES_MAX, n);
        return NULL;
    }
    buf = js_malloc(ctx, n + 1);
    if (!buf)
        return NULL;
    memcpy(buf, ptr, n);
    buf[n] = '\0';
    *len = n + 1;
    return buf;
}

// Parses one certificate set (PEM: the NUL-terminated length; DER: the exact length).
static int parse_certs(mbedtls_x509_crt *crt, const unsigned char *buf, size_t len)
{
    bool pem = strstr((const char *)buf, "-----BEGIN ") != NULL;
    return mbedtls_x509_crt_parse(crt, buf, pem ? len : len - 1);
}

static int parse_key(mbedtls_pk_context *pk, const unsigned char *buf, size_t len)
{
    bool pem = strstr((const char *)buf, "-----BEGIN ") != NULL;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(pk, buf, pem ? len : len - 1, NULL, 0, tls_random, NULL);
#else
    return mbedtls_pk_parse_key(pk, buf, pem ? len : len - 1, NULL, 0);
#endif
}

struct client_args {
    unsigned char *ca, *cert, *key;
    size_t ca_len, cert_len, key_len;
    const char *server_name;
};

static void client_args_free(JSContext *ctx, struct client_args *a)
{
    js_free(ctx, a->ca);
    js_free(ctx, a->cert);
    js_free(ctx, a->key);
    if (a->server_name)
        JS_FreeCString(ctx, a->server_name);
}

// Reads { ca, cert?, key?, serverName } into `a`; throws (returns -1) on a wrong type or size.
static int get_client_args(JSContext *ctx, JSValueConst opts, struct client_args *a)
{
    JSValue v;
    size_t name_len;

    if (!JS_IsObject(opts)) {
        JS_ThrowTypeError(ctx, "options must be an object { ca, cert?, key?, serverName }");
        return -1;
    }
    v = JS_GetPropertyStr(ctx, opts, "serverName");
    if (!JS_IsString(v)) {
        JS_FreeValue(ctx, v);
        JS_ThrowTypeError(ctx, "options.serverName must be a string");
        return -1;
    }
    a->server_name = JS_ToCStringLen(ctx, &name_len, v);
    JS_FreeValue(ctx, v);
    if (!a->server_name)
        return -1;
    if (name_len == 0 || name_len > X0_TLS_SERVER_NAME_MAX || strlen(a->server_name) != name_len) {
        JS_ThrowRangeError(ctx, "options.serverName must be 1..%d bytes without NUL", X0_TLS_SERVER_NAME_MAX);
        return -1;
    }
    v = JS_GetPropertyStr(ctx, opts, "ca");
    a->ca = nul_terminated(ctx, v, "options.ca", &a->ca_len);
    JS_FreeValue(ctx, v);
    if (!a->ca)
        return -1;
    v = JS_GetPropertyStr(ctx, opts, "cert");
    if (!JS_IsUndefined(v))
        a->cert = nul_terminated(ctx, v, "options.cert", &a->cert_len);
    JS_FreeValue(ctx, v);
    v = JS_GetPropertyStr(ctx, opts, "key");
    if (!JS_IsUndefined(v))
        a->key = nul_terminated(ctx, v, "options.key", &a->key_len);
    JS_FreeValue(ctx, v);
    if (JS_HasException(ctx))
        return -1;
    if ((a->cert == NULL) != (a->key == NULL)) {
        JS_ThrowTypeError(ctx, "options.cert and options.key go together");
        return -1;
    }
    return 0;
}

// Sets up the configuration and the session; returns NULL with a JS value in *result on failure.
static struct tls_conn *tls_conn_new(JSContext *ctx, int fd, const struct client_args *a, JSValue *result)
{
    struct tls_conn *c = calloc(1, sizeof(*c));
    int rc;

    if (!c) {
        *result = JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_x509_crt_init(&c->cert);
    mbedtls_pk_init(&c->key);
    if ((rc = parse_certs(&c->ca, a->ca, a->ca_len)) != 0) {
        *result = tls_error_code(ctx, "tls-ca-invalid", rc);
        goto fail;
    }
    if (a->cert && (rc = parse_certs(&c->cert, a->cert, a->cert_len)) != 0) {
        *result = tls_error_code(ctx, "tls-cert-invalid", rc);
        goto fail;
    }
    if (a->key && (rc = parse_key(&c->key, a->key, a->key_len)) != 0) {
        *result = tls_error_code(ctx, "tls-key-invalid", rc);
        goto fail;
    }
    if ((rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        *result = tls_error_code(ctx, "handshake-failed", rc);
        goto fail;
    }
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    mbedtls_ssl_conf_rng(&c->conf, tls_random, NULL);
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    // TLS 1.2 at least: 1.0 and 1.1 are deprecated (RFC 8996).
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    if (a->cert && (rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key)) != 0) {
        *result = tls_error_code(ctx, "tls-key-invalid", rc);
        goto fail;
    }
    note_ip_name(c, a->server_name);
    if ((rc = mbedtls_ssl_setup(&c->ssl, &c->conf)) != 0 || (rc = set_server_name(c, a->server_name)) != 0) {
        *result = tls_error_code(ctx, "handshake-failed", rc);
        goto fail;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return c;
fail:
    tls_conn_free(c);
    return NULL;
}

// The session behind a connection object; throws TypeError for another value or a closed connection.
static struct tls_conn *get_conn(JSContext *ctx, JSValueConst val)
{
    struct tls_conn *c;
    if (JS_GetClassID(val) != tls_class_id) {
        JS_ThrowTypeError(ctx, "conn must be a connection from client()");
        return NULL;
    }
    c = JS_GetOpaque(val, tls_class_id);
    if (!c)
        JS_ThrowTypeError(ctx, "the TLS connection is closed");
    return c;
}

// client(fd, { ca, cert?, key?, serverName }) -> connection | { error, detail }
static JSValue x0_tls_client(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct client_args a = { 0 };
    struct tls_conn *c;
    JSValue obj, result = JS_UNDEFINED;
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0)
        return JS_EXCEPTION;
    if (get_client_args(ctx, argv[1], &a) < 0) {
        client_args_free(ctx, &a);
        return JS_EXCEPTION;
    }
    c = tls_conn_new(ctx, fd, &a, &result);
    client_args_free(ctx, &a);
    if (!c)
        return result;
    obj = JS_NewObjectClass(ctx, tls_class_id);
    if (JS_IsException(obj)) {
        tls_conn_free(c);
        return obj;
    }
    JS_SetOpaque(obj, c);
    return obj;
}

static JSValue want_or_error(JSContext *ctx, struct tls_conn *c, int rc, const char *reason)
{
    if (rc == MBEDTLS_ERR_SSL_WANT_READ)
        return JS_NewString(ctx, "want-read");
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return JS_NewString(ctx, "want-write");
    if (c->sys_errno != 0)
        return tls_error(ctx, x0_errno_name(c->sys_errno), strerror(c->sys_errno));
    return tls_error_code(ctx, reason, rc);
}

// handshake(conn) -> null (done) | 'want-read' | 'want-write' | { error, detail }
static JSValue x0_tls_handshake(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct tls_conn *c = get_conn(ctx, argv[0]);
    int rc;
    (void)this_val;
    (void)argc;

    if (!c)
        return JS_EXCEPTION;
    rc = mbedtls_ssl_handshake(&c->ssl);
    if (rc == 0) {
        c->handshake_done = true;
        return JS_NULL;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return want_or_error(ctx, c, rc, "handshake-failed");
    return handshake_error(ctx, c, rc);
}

// read(conn, maxBytes) -> Uint8Array (empty: the peer closed) | 'want-read' | 'want-write' | { error, detail }
static JSValue x0_tls_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct tls_conn *c = get_conn(ctx, argv[0]);
    uint32_t max_bytes;
    uint8_t *buf;
    int rc;
    (void)this_val;
    (void)argc;

    if (!c || x0_get_uint(ctx, argv[1], "maxBytes", 1, X0_NET_RECV_BYTES_MAX, &max_bytes) < 0)
        return JS_EXCEPTION;
    if (!c->handshake_done)
        return JS_ThrowTypeError(ctx, "read before the handshake finished");
    buf = js_malloc(ctx, max_bytes);
    if (!buf)
        return JS_EXCEPTION;
    rc = mbedtls_ssl_read(&c->ssl, buf, max_bytes);
    // close_notify or a TCP end: both an end of stream to the reader (MQTT has its own end: DISCONNECT).
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_SSL_CONN_EOF)
        rc = 0;
    if (rc < 0) {
        js_free(ctx, buf);
        return want_or_error(ctx, c, rc, "tls-read-failed");
    }
    return x0_uint8array_take(ctx, buf, (size_t)rc);
}

// write(conn, data) -> bytes taken | 'want-read' | 'want-write' | { error, detail }. After a want-*, call again
// with the same data: mbedtls keeps the record it started.
static JSValue x0_tls_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct tls_conn *c = get_conn(ctx, argv[0]);
    const uint8_t *ptr;
    size_t len;
    int rc;
    (void)this_val;
    (void)argc;

    if (!c || x0_get_bytes(ctx, argv[1], "data", &ptr, &len) < 0)
        return JS_EXCEPTION;
    if (!c->handshake_done)
        return JS_ThrowTypeError(ctx, "write before the handshake finished");
    if (len == 0)
        return JS_NewInt32(ctx, 0);
    rc = mbedtls_ssl_write(&c->ssl, ptr, len);
    if (rc < 0)
        return want_or_error(ctx, c, rc, "tls-write-failed");
    return JS_NewInt32(ctx, rc);
}

// pending(conn) -> bytes decrypted and buffered here (a read returns them without the socket being readable)
static JSValue x0_tls_pending(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct tls_conn *c = get_conn(ctx, argv[0]);
    (void)this_val;
    (void)argc;

    if (!c)
        return JS_EXCEPTION;
    return JS_NewInt64(ctx, (int64_t)mbedtls_ssl_get_bytes_avail(&c->ssl));
}

// close(conn) -> null. Sends close_notify if the socket takes it now (best effort), frees the session; the fd
// stays open for JS to close. Closing twice is a no-op.
static JSValue x0_tls_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct tls_conn *c;
    (void)this_val;
    (void)argc;

    if (JS_GetClassID(argv[0]) != tls_class_id)
        return JS_ThrowTypeError(ctx, "conn must be a connection from client()");
    c = JS_GetOpaque(argv[0], tls_class_id);
    if (!c)
        return JS_NULL;
    if (c->handshake_done && c->sys_errno == 0)
        (void)mbedtls_ssl_close_notify(&c->ssl);
    JS_SetOpaque(argv[0], NULL);
    tls_conn_free(c);
    return JS_NULL;
}

static const JSCFunctionListEntry x0_tls_funcs[] = {
    JS_CFUNC_DEF("client", 2, x0_tls_client),
    JS_CFUNC_DEF("handshake", 1, x0_tls_handshake),
    JS_CFUNC_DEF("read", 2, x0_tls_read),
    JS_CFUNC_DEF("write", 2, x0_tls_write),
    JS_CFUNC_DEF("pending", 1, x0_tls_pending),
    JS_CFUNC_DEF("close", 1, x0_tls_close),
    JS_PROP_STRING_DEF("library", "mbed TLS " MBEDTLS_VERSION_STRING, JS_PROP_CONFIGURABLE),
};

#define X0_TLS_AVAILABLE true

static int tls_register_class(JSContext *ctx)
{
    JSRuntime *rt = JS_GetRuntime(ctx);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    // mbedtls 3 routes its hashes and ciphers through PSA, which must be initialised once.
    if (psa_crypto_init() != PSA_SUCCESS)
        return -1;
#endif
    JS_NewClassID(rt, &tls_class_id);
    return JS_NewClass(rt, tls_class_id, &tls_class);
}

#else // !X0_TLS: the module is there so that a bundle importing it still links; it says TLS is absent.

static JSValue x0_tls_client(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSValue obj = JS_NewObject(ctx);
    (void)this_val;
    (void)argc;
    (void)argv;
    if (JS_IsException(obj))
        return obj;
    JS_SetPropertyStr(ctx, obj, "error", JS_NewString(ctx, "tls-unavailable"));
    JS_SetPropertyStr(ctx, obj, "detail",
                      JS_NewString(ctx, "this x0-runtime was built without TLS (mbedtls): build it with TLS=1"));
    return obj;
}

static const JSCFunctionListEntry x0_tls_funcs[] = {
    JS_CFUNC_DEF("client", 2, x0_tls_client),
    JS_PROP_STRING_DEF("library", "none", JS_PROP_CONFIGURABLE),
};

#define X0_TLS_AVAILABLE false

static int tls_register_class(JSContext *ctx)
{
    (void)ctx;
    return 0;
}

#endif

// `available` is a boolean, which a function list cannot hold: exported on its own.
static int x0_tls_init(JSContext *ctx, JSModuleDef *m)
{
    if (JS_SetModuleExport(ctx, m, "available", JS_NewBool(ctx, X0_TLS_AVAILABLE)) < 0)
        return -1;
    return JS_SetModuleExportList(ctx, m, x0_tls_funcs, countof(x0_tls_funcs));
}

JSModuleDef *x0_init_module_tls(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m;
    if (tls_register_class(ctx) < 0)
        return NULL;
    m = JS_NewCModule(ctx, module_name, x0_tls_init);
    if (!m)
        return NULL;
    if (JS_AddModuleExport(ctx, m, "available") < 0 ||
        JS_AddModuleExportList(ctx, m, x0_tls_funcs, countof(x0_tls_funcs)) < 0)
        return NULL;
    return m;
}
