// Shared declarations of x0-runtime: exit codes, the native module initialisers and the argument helpers
// every native function uses to validate what JS hands it.
#ifndef X0_H
#define X0_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

// Exit codes: what failed, for procd, scripts and tests. Documented in README.md; std.exit(n) passes n through.
enum {
    X0_EXIT_OK = 0,
    X0_EXIT_JS_ERROR = 1,      // uncaught exception, unhandled rejection, unsettled top-level await
    X0_EXIT_USAGE = 2,         // bad command line
    X0_EXIT_FILE = 3,          // cannot read the input or write the output
    X0_EXIT_COMPILE = 4,       // syntax error, unloadable import, bytecode invalid or from another QuickJS
    X0_EXIT_OOM = 5,           // the --memory-limit (or malloc) ran out
    X0_EXIT_STACK = 6,         // the --stack-size ran out
    X0_EXIT_INTERNAL = 70,     // the runtime itself could not start (EX_SOFTWARE)
};

// Limits on what JS may ask of the native modules in one call.
#define X0_NET_RECV_BYTES_MAX (1u << 20)      // one recv/recvfrom buffer
#define X0_NET_BACKLOG_MAX 4096               // listen() backlog
#define X0_CRYPTO_RANDOM_BYTES_MAX (1u << 20) // one randomBytes() call
#define X0_CRYPTO_MESSAGE_BYTES_MAX (64u << 20) // one box/secretbox/sign input

JSModuleDef *x0_init_module_net(JSContext *ctx, const char *module_name);
JSModuleDef *x0_init_module_crypto(JSContext *ctx, const char *module_name);
JSModuleDef *x0_init_module_fs(JSContext *ctx, const char *module_name);
JSModuleDef *x0_init_module_tls(JSContext *ctx, const char *module_name);

// errno -> its name ("ECONNREFUSED"); "EUNKNOWN" for a value outside the table.
const char *x0_errno_name(int err);
// The error convention of every x0:* function: an object { error: 'ENAME' }.
JSValue x0_error_result(JSContext *ctx, int err);

// Argument helpers: on bad input they throw (TypeError / RangeError naming `what`) and return -1.
int x0_get_fd(JSContext *ctx, JSValueConst val, const char *what, int *fd);
int x0_get_uint(JSContext *ctx, JSValueConst val, const char *what, uint32_t min, uint32_t max, uint32_t *out);
// Bytes of an ArrayBuffer or any TypedArray view. The pointer is valid until JS runs again, so callers
// fetch it after every other argument has been converted.
int x0_get_bytes(JSContext *ctx, JSValueConst val, const char *what, const uint8_t **ptr, size_t *len);
// Same, and the length must be exactly `want`.
int x0_get_bytes_exact(JSContext *ctx, JSValueConst val, const char *what, size_t want, const uint8_t **ptr);
// A Uint8Array with a copy of buf[0..len); frees `buf` (allocated with js_malloc) in every case.
JSValue x0_uint8array_take(JSContext *ctx, uint8_t *buf, size_t len);

#endif
