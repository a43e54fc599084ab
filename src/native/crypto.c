// x0:crypto — libsodium's NaCl primitives, wire-compatible with tweetnacl: Ed25519 (64-byte secret keys =
// seed || public key, detached signatures), X25519, crypto_box and crypto_secretbox in the "easy" layout
// (16-byte tag in front, as tweetnacl.box/secretbox produce), SHA-512, HMAC-SHA-512 (RFC 2104, any key
// length) and randombytes. Inputs are Uint8Array/ArrayBuffer; every length is checked and a wrong one throws
// a RangeError. Ciphertexts that do not authenticate are an ordinary result: null.
#include <sodium.h>
#include <string.h>

#include "x0.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

static int get_message(JSContext *ctx, JSValueConst val, const char *what, const uint8_t **ptr, size_t *len)
{
    if (x0_get_bytes(ctx, val, what, ptr, len) < 0)
        return -1;
    if (*len > X0_CRYPTO_MESSAGE_BYTES_MAX) {
        JS_ThrowRangeError(ctx, "%s is %zu bytes, more than the %u allowed", what, *len, X0_CRYPTO_MESSAGE_BYTES_MAX);
        return -1;
    }
    return 0;
}

static JSValue new_keypair(JSContext *ctx, const uint8_t *pk, size_t pk_len, const uint8_t *sk, size_t sk_len)
{
    JSValue obj = JS_NewObject(ctx);
    if (JS_IsException(obj))
        return obj;
    if (JS_SetPropertyStr(ctx, obj, "publicKey", JS_NewUint8ArrayCopy(ctx, pk, pk_len)) < 0 ||
        JS_SetPropertyStr(ctx, obj, "secretKey", JS_NewUint8ArrayCopy(ctx, sk, sk_len)) < 0) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    return obj;
}

// randomBytes(length) -> Uint8Array
static JSValue x0_crypto_random_bytes(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t length;
    uint8_t *buf;
    (void)this_val;
    (void)argc;

    if (x0_get_uint(ctx, argv[0], "length", 0, X0_CRYPTO_RANDOM_BYTES_MAX, &length) < 0)
        return JS_EXCEPTION;
    buf = js_malloc(ctx, length + 1);
    if (!buf)
        return JS_EXCEPTION;
    randombytes_buf(buf, length);
    return x0_uint8array_take(ctx, buf, length);
}

// signKeypair() -> { publicKey: 32 bytes, secretKey: 64 bytes }
static JSValue x0_crypto_sign_keypair(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    JSValue result;
    (void)this_val;
    (void)argc;
    (void)argv;

    crypto_sign_keypair(pk, sk);
    result = new_keypair(ctx, pk, sizeof(pk), sk, sizeof(sk));
    sodium_memzero(sk, sizeof(sk));
    return result;
}

// signSeedKeypair(seed: 32 bytes) -> { publicKey, secretKey }
static JSValue x0_crypto_sign_seed_keypair(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    const uint8_t *seed;
    JSValue result;
    (void)this_val;
    (void)argc;

    if (x0_get_bytes_exact(ctx, argv[0], "seed", crypto_sign_SEEDBYTES, &seed) < 0)
        return JS_EXCEPTION;
    crypto_sign_seed_keypair(pk, sk, seed);
    result = new_keypair(ctx, pk, sizeof(pk), sk, sizeof(sk));
    sodium_memzero(sk, sizeof(sk));
    return result;
}

// sign(message, secretKey: 64 bytes) -> detached signature (64 bytes)
static JSValue x0_crypto_sign(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t sig[crypto_sign_BYTES];
    const uint8_t *message, *sk;
    size_t message_len;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "message", &message, &message_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "secretKey", crypto_sign_SECRETKEYBYTES, &sk) < 0)
        return JS_EXCEPTION;
    crypto_sign_detached(sig, NULL, message, message_len, sk);
    return JS_NewUint8ArrayCopy(ctx, sig, sizeof(sig));
}

// verify(message, signature: 64 bytes, publicKey: 32 bytes) -> boolean
static JSValue x0_crypto_verify(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *message, *sig, *pk;
    size_t message_len;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "message", &message, &message_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "signature", crypto_sign_BYTES, &sig) < 0 ||
        x0_get_bytes_exact(ctx, argv[2], "publicKey", crypto_sign_PUBLICKEYBYTES, &pk) < 0)
        return JS_EXCEPTION;
    return JS_NewBool(ctx, crypto_sign_verify_detached(sig, message, message_len, pk) == 0);
}

// boxKeypair() -> { publicKey: 32 bytes, secretKey: 32 bytes }
static JSValue x0_crypto_box_keypair(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    JSValue result;
    (void)this_val;
    (void)argc;
    (void)argv;

    crypto_box_keypair(pk, sk);
    result = new_keypair(ctx, pk, sizeof(pk), sk, sizeof(sk));
    sodium_memzero(sk, sizeof(sk));
    return result;
}

// scalarmultBase(secretKey: 32 bytes) -> public key (32 bytes)
static JSValue x0_crypto_scalarmult_base(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t pk[crypto_scalarmult_BYTES];
    const uint8_t *sk;
    (void)this_val;
    (void)argc;

    if (x0_get_bytes_exact(ctx, argv[0], "secretKey", crypto_scalarmult_SCALARBYTES, &sk) < 0)
        return JS_EXCEPTION;
    crypto_scalarmult_base(pk, sk);
    return JS_NewUint8ArrayCopy(ctx, pk, sizeof(pk));
}

// scalarmult(secretKey: 32, publicKey: 32) -> shared point (32 bytes), or null when the public key is a
// low-order point (libsodium refuses the all-zero result that tweetnacl would return).
static JSValue x0_crypto_scalarmult(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t shared[crypto_scalarmult_BYTES];
    const uint8_t *sk, *pk;
    JSValue result;
    (void)this_val;
    (void)argc;

    if (x0_get_bytes_exact(ctx, argv[0], "secretKey", crypto_scalarmult_SCALARBYTES, &sk) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "publicKey", crypto_scalarmult_BYTES, &pk) < 0)
        return JS_EXCEPTION;
    if (crypto_scalarmult(shared, sk, pk) != 0)
        return JS_NULL;
    result = JS_NewUint8ArrayCopy(ctx, shared, sizeof(shared));
    sodium_memzero(shared, sizeof(shared));
    return result;
}

// box(message, nonce: 24, publicKey: 32, secretKey: 32) -> tag || ciphertext, or null for a low-order key
static JSValue x0_crypto_box(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *message, *nonce, *pk, *sk;
    size_t message_len;
    uint8_t *out;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "message", &message, &message_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "nonce", crypto_box_NONCEBYTES, &nonce) < 0 ||
        x0_get_bytes_exact(ctx, argv[2], "publicKey", crypto_box_PUBLICKEYBYTES, &pk) < 0 ||
        x0_get_bytes_exact(ctx, argv[3], "secretKey", crypto_box_SECRETKEYBYTES, &sk) < 0)
        return JS_EXCEPTION;
    out = js_malloc(ctx, message_len + crypto_box_MACBYTES);
    if (!out)
        return JS_EXCEPTION;
    // js_malloc may have run the GC, but no JS ran: the argument pointers are still valid.
    if (crypto_box_easy(out, message, message_len, nonce, pk, sk) != 0) {
        js_free(ctx, out);
        return JS_NULL;
    }
    return x0_uint8array_take(ctx, out, message_len + crypto_box_MACBYTES);
}

// boxOpen(box, nonce: 24, publicKey: 32, secretKey: 32) -> plaintext | null when it does not authenticate
static JSValue x0_crypto_box_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *box, *nonce, *pk, *sk;
    size_t box_len;
    uint8_t *out;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "box", &box, &box_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "nonce", crypto_box_NONCEBYTES, &nonce) < 0 ||
        x0_get_bytes_exact(ctx, argv[2], "publicKey", crypto_box_PUBLICKEYBYTES, &pk) < 0 ||
        x0_get_bytes_exact(ctx, argv[3], "secretKey", crypto_box_SECRETKEYBYTES, &sk) < 0)
        return JS_EXCEPTION;
    if (box_len < crypto_box_MACBYTES)
        return JS_NULL; // a truncated box from the network is a forgery, not a programming error
    out = js_malloc(ctx, box_len - crypto_box_MACBYTES + 1);
    if (!out)
        return JS_EXCEPTION;
    if (crypto_box_open_easy(out, box, box_len, nonce, pk, sk) != 0) {
        js_free(ctx, out);
        return JS_NULL;
    }
    return x0_uint8array_take(ctx, out, box_len - crypto_box_MACBYTES);
}

// secretbox(message, nonce: 24, key: 32) -> tag || ciphertext
static JSValue x0_crypto_secretbox(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *message, *nonce, *key;
    size_t message_len;
    uint8_t *out;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "message", &message, &message_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "nonce", crypto_secretbox_NONCEBYTES, &nonce) < 0 ||
        x0_get_bytes_exact(ctx, argv[2], "key", crypto_secretbox_KEYBYTES, &key) < 0)
        return JS_EXCEPTION;
    out = js_malloc(ctx, message_len + crypto_secretbox_MACBYTES);
    if (!out)
        return JS_EXCEPTION;
    crypto_secretbox_easy(out, message, message_len, nonce, key);
    return x0_uint8array_take(ctx, out, message_len + crypto_secretbox_MACBYTES);
}

// secretboxOpen(box, nonce: 24, key: 32) -> plaintext | null when it does not authenticate
static JSValue x0_crypto_secretbox_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const uint8_t *box, *nonce, *key;
    size_t box_len;
    uint8_t *out;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "box", &box, &box_len) < 0 ||
        x0_get_bytes_exact(ctx, argv[1], "nonce", crypto_secretbox_NONCEBYTES, &nonce) < 0 ||
        x0_get_bytes_exact(ctx, argv[2], "key", crypto_secretbox_KEYBYTES, &key) < 0)
        return JS_EXCEPTION;
    if (box_len < crypto_secretbox_MACBYTES)
        return JS_NULL;
    out = js_malloc(ctx, box_len - crypto_secretbox_MACBYTES + 1);
    if (!out)
        return JS_EXCEPTION;
    if (crypto_secretbox_open_easy(out, box, box_len, nonce, key) != 0) {
        js_free(ctx, out);
        return JS_NULL;
    }
    return x0_uint8array_take(ctx, out, box_len - crypto_secretbox_MACBYTES);
}

// sha512(data) -> 64 bytes
static JSValue x0_crypto_sha512(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t digest[crypto_hash_sha512_BYTES];
    const uint8_t *data;
    size_t len;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "data", &data, &len) < 0)
        return JS_EXCEPTION;
    crypto_hash_sha512(digest, data, len);
    return JS_NewUint8ArrayCopy(ctx, digest, sizeof(digest));
}

// hmacSha512(key: any length, data) -> 64 bytes. libsodium's init hashes keys longer than the
// 128-byte block, as RFC 2104 says; the fixed-key crypto_auth_hmacsha512 would truncate the output.
static JSValue x0_crypto_hmac_sha512(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state state;
    const uint8_t *key, *data;
    size_t key_len, data_len;
    (void)this_val;
    (void)argc;

    if (get_message(ctx, argv[0], "key", &key, &key_len) < 0 ||
        get_message(ctx, argv[1], "data", &data, &data_len) < 0)
        return JS_EXCEPTION;
    crypto_auth_hmacsha512_init(&state, key, key_len);
    crypto_auth_hmacsha512_update(&state, data, data_len);
    crypto_auth_hmacsha512_final(&state, mac);
    sodium_memzero(&state, sizeof(state));
    return JS_NewUint8ArrayCopy(ctx, mac, sizeof(mac));
}

static const JSCFunctionListEntry x0_crypto_funcs[] = {
    JS_CFUNC_DEF("randomBytes", 1, x0_crypto_random_bytes),
    JS_CFUNC_DEF("signKeypair", 0, x0_crypto_sign_keypair),
    JS_CFUNC_DEF("signSeedKeypair", 1, x0_crypto_sign_seed_keypair),
    JS_CFUNC_DEF("sign", 2, x0_crypto_sign),
    JS_CFUNC_DEF("verify", 3, x0_crypto_verify),
    JS_CFUNC_DEF("boxKeypair", 0, x0_crypto_box_keypair),
    JS_CFUNC_DEF("scalarmultBase", 1, x0_crypto_scalarmult_base),
    JS_CFUNC_DEF("scalarmult", 2, x0_crypto_scalarmult),
    JS_CFUNC_DEF("box", 4, x0_crypto_box),
    JS_CFUNC_DEF("boxOpen", 4, x0_crypto_box_open),
    JS_CFUNC_DEF("secretbox", 3, x0_crypto_secretbox),
    JS_CFUNC_DEF("secretboxOpen", 3, x0_crypto_secretbox_open),
    JS_CFUNC_DEF("sha512", 1, x0_crypto_sha512),
    JS_CFUNC_DEF("hmacSha512", 2, x0_crypto_hmac_sha512),
    JS_PROP_STRING_DEF("backend", "libsodium", JS_PROP_CONFIGURABLE),
};

static int x0_crypto_init(JSContext *ctx, JSModuleDef *m)
{
    return JS_SetModuleExportList(ctx, m, x0_crypto_funcs, countof(x0_crypto_funcs));
}

JSModuleDef *x0_init_module_crypto(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, x0_crypto_init);
    if (!m)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, x0_crypto_funcs, countof(x0_crypto_funcs)) < 0)
        return NULL;
    return m;
}
