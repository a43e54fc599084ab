// Helpers shared by the native modules: errno names, the { error } result shape, argument validation.
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "x0.h"

#define ERRNO_ENTRY(e) { e, #e }

static const struct {
    int value;
    const char *name;
} errno_table[] = {
    ERRNO_ENTRY(EAGAIN), ERRNO_ENTRY(EINPROGRESS), ERRNO_ENTRY(EALREADY), ERRNO_ENTRY(EINTR),
    ERRNO_ENTRY(ECONNREFUSED), ERRNO_ENTRY(ECONNRESET), ERRNO_ENTRY(ECONNABORTED), ERRNO_ENTRY(EPIPE),
    ERRNO_ENTRY(ETIMEDOUT), ERRNO_ENTRY(ENOTCONN), ERRNO_ENTRY(EISCONN), ERRNO_ENTRY(ESHUTDOWN),
    ERRNO_ENTRY(EADDRINUSE), ERRNO_ENTRY(EADDRNOTAVAIL), ERRNO_ENTRY(EAFNOSUPPORT), ERRNO_ENTRY(EPROTONOSUPPORT),
    ERRNO_ENTRY(EPROTOTYPE), ERRNO_ENTRY(ENOPROTOOPT), ERRNO_ENTRY(EOPNOTSUPP), ERRNO_ENTRY(EDESTADDRREQ),
    ERRNO_ENTRY(EMSGSIZE), ERRNO_ENTRY(ENETUNREACH), ERRNO_ENTRY(ENETDOWN), ERRNO_ENTRY(EHOSTUNREACH),
    ERRNO_ENTRY(EHOSTDOWN), ERRNO_ENTRY(ENOTSOCK), ERRNO_ENTRY(ENOBUFS), ERRNO_ENTRY(ENOMEM),
    ERRNO_ENTRY(EMFILE), ERRNO_ENTRY(ENFILE), ERRNO_ENTRY(EBADF), ERRNO_ENTRY(EINVAL), ERRNO_ENTRY(EFAULT),
    ERRNO_ENTRY(EACCES), ERRNO_ENTRY(EPERM), ERRNO_ENTRY(ENOENT), ERRNO_ENTRY(EEXIST), ERRNO_ENTRY(ENOTDIR),
    ERRNO_ENTRY(EISDIR), ERRNO_ENTRY(ENOTEMPTY), ERRNO_ENTRY(ENAMETOOLONG), ERRNO_ENTRY(ENOSPC),
    ERRNO_ENTRY(EROFS), ERRNO_ENTRY(EIO), ERRNO_ENTRY(ELOOP), ERRNO_ENTRY(ESRCH), ERRNO_ENTRY(ECHILD),
    ERRNO_ENTRY(EPROTO), ERRNO_ENTRY(ENODEV), ERRNO_ENTRY(ENXIO), ERRNO_ENTRY(EDQUOT), ERRNO_ENTRY(ETXTBSY),
};

const char *x0_errno_name(int err)
{
    // EWOULDBLOCK is EAGAIN on Linux; one name keeps the JS side to one comparison.
    if (err == EWOULDBLOCK)
        err = EAGAIN;
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
        if (errno_table[i].value == err)
            return errno_table[i].name;
    }
    return "EUNKNOWN";
}

JSValue x0_error_result(JSContext *ctx, int err)
{
    JSValue obj = JS_NewObject(ctx);
    if (JS_IsException(obj))
        return obj;
    if (JS_SetPropertyStr(ctx, obj, "error", JS_NewString(ctx, x0_errno_name(err))) < 0) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    return obj;
}

int x0_get_uint(JSContext *ctx, JSValueConst val, const char *what, uint32_t min, uint32_t max, uint32_t *out)
{
    double d;
    if (!JS_IsNumber(val)) {
        JS_ThrowTypeError(ctx, "%s must be a number", what);
        return -1;
    }
    if (JS_ToFloat64(ctx, &d, val) < 0)
        return -1;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) {
        JS_ThrowRangeError(ctx, "%s must be an integer in [%u, %u], got %g", what, min, max, d);
        return -1;
    }
    *out = (uint32_t)d;
    return 0;
}

int x0_get_fd(JSContext *ctx, JSValueConst val, const char *what, int *fd)
{
    uint32_t v;
    if (x0_get_uint(ctx, val, what, 0, INT_MAX, &v) < 0)
        return -1;
    *fd = (int)v;
    return 0;
}

int x0_get_bytes(JSContext *ctx, JSValueConst val, const char *what, const uint8_t **ptr, size_t *len)
{
    static const uint8_t empty[1];
    uint8_t *base;
    size_t size, offset, length, element;
    JSValue buffer;

    if (JS_IsArrayBuffer(val)) {
        base = JS_GetArrayBuffer(ctx, &size, val);
        if (!base && size != 0)
            return -1;
        *ptr = base ? base : empty;
        *len = size;
        return 0;
    }
    if (JS_GetTypedArrayType(val) < 0) {
        JS_ThrowTypeError(ctx, "%s must be a Uint8Array or an ArrayBuffer", what);
        return -1;
    }
    buffer = JS_GetTypedArrayBuffer(ctx, val, &offset, &length, &element);
    if (JS_IsException(buffer))
        return -1;
    base = JS_GetArrayBuffer(ctx, &size, buffer);
    JS_FreeValue(ctx, buffer); // the view keeps its buffer alive
    if (!base && length != 0) {
        JS_ThrowTypeError(ctx, "%s is detached", what);
        return -1;
    }
    // A view of a buffer that shrank since it was created must not read past the end.
    if (offset > size || length > size - offset) {
        JS_ThrowRangeError(ctx, "%s is out of bounds of its buffer", what);
        return -1;
    }
    *ptr = base ? base + offset : empty;
    *len = length;
    return 0;
}

int x0_get_bytes_exact(JSContext *ctx, JSValueConst val, const char *what, size_t want, const uint8_t **ptr)
{
    size_t len;
    if (x0_get_bytes(ctx, val, what, ptr, &len) < 0)
        return -1;
    if (len != want) {
        JS_ThrowRangeError(ctx, "%s must be %zu bytes, got %zu", what, want, len);
        return -1;
    }
    return 0;
}

// Copies rather than handing `buf` over: JS_NewUint8Array's ownership on a half-failed construction is not
// specified, and a copy of a datagram or a ciphertext is cheap next to the work that produced it.
JSValue x0_uint8array_take(JSContext *ctx, uint8_t *buf, size_t len)
{
    JSValue arr = JS_NewUint8ArrayCopy(ctx, buf, len);
    js_free(ctx, buf);
    return arr;
}
