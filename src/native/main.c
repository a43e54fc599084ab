// x0-runtime: the router's JavaScript host. Runs one ES module (source, or bytecode made by --compile) on
// QuickJS-ng with qjs:std, qjs:os and our native modules x0:net, x0:crypto, x0:fs, x0:tls, then runs the event loop
// until nothing is left to wait for. Exit codes say what failed (x0.h, README.md).
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quickjs-libc.h"
#include "x0.h"

#ifndef X0_VERSION
#define X0_VERSION "dev"
#endif

// A compiled file starts with one text line naming the format and the engine that wrote it: QuickJS
// bytecode is only readable by the exact version that produced it, and a clear refusal beats a crash.
#define BYTECODE_MAGIC "x0-jsbc 1 "
#define BYTECODE_HEADER_MAX 64
// Larger inputs are not a bundle we made; refuse them before allocating.
#define SOURCE_BYTES_MAX (64u << 20)

struct options {
    const char *file;        // run: the module to run
    const char *compile_in;  // --compile: the module to compile ...
    const char *compile_out; // ... and where the bytecode goes
    bool strip_debug;        // --strip-debug: the bytecode without file names, line/column tables
    int64_t memory_limit;    // bytes; -1 when not set
    int64_t stack_size;      // bytes; -1 for QuickJS's default
    int script_argc;         // scriptArgs: FILE and the arguments after it
    char **script_argv;
};

static const char usage_text[] =
    "usage: x0-runtime [options] FILE [args...]\n"
    "       x0-runtime [options] --compile IN.js -o OUT.jsbc\n"
    "\n"
    "Runs FILE (an ES module, as JavaScript source or bytecode made by --compile) on QuickJS-ng with the\n"
    "modules qjs:std, qjs:os, x0:net, x0:crypto, x0:fs and x0:tls. scriptArgs is [FILE, args...].\n"
    "\n"
    "options:\n"
    "  -c, --compile IN      compile the module IN to bytecode (needs -o)\n"
    "  -o, --out OUT         where --compile writes the bytecode (atomically)\n"
    "      --strip-debug     with --compile: leave out file names and line/column tables (smaller; stack\n"
    "                        traces then name functions only, and errors keep their messages)\n"
    "      --memory-limit N  cap the JS heap at N bytes (suffix K, M or G: binary multiples)\n"
    "      --stack-size N    cap the JS stack at N bytes (suffix K, M or G)\n"
    "  -h, --help            print this help\n"
    "  -v, --version         print the versions of x0-runtime, QuickJS-ng and libsodium\n"
    "\n"
    "exit codes: 0 ok, 1 uncaught JS error or unhandled rejection, 2 usage, 3 cannot read or write a file,\n"
    "4 syntax/compile/link error or unusable bytecode, 5 out of memory, 6 stack overflow, 70 internal error;\n"
    "std.exit(n) exits with n.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("x0-runtime: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'x0-runtime --help'.\n", stderr);
    return X0_EXIT_USAGE;
}

// "512M" -> 536870912. Integers only, with an optional binary K/M/G suffix; 0 and overflow are refused.
static int parse_size(const char *text, int64_t *out)
{
    char *end;
    unsigned long long value, unit = 1;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': unit = 1ull << 10; end++; break;
    case 'm': case 'M': unit = 1ull << 20; end++; break;
    case 'g': case 'G': unit = 1ull << 30; end++; break;
    default: return -1;
    }
    if (*end != '\0' || value == 0 || value > (unsigned long long)INT64_MAX / unit)
        return -1;
    *out = (int64_t)(value * unit);
    return 0;
}

// Takes the value of an option given as "--opt VALUE" or "--opt=VALUE"; NULL when it is missing.
static const char *option_value(int argc, char **argv, int *i, const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

// Returns -1 when the options are complete, else the exit code to leave with (0 after --help/--version).
static int parse_options(int argc, char **argv, struct options *o)
{
    int i;
    for (i = 1; i < argc; i++) {
        char name[32];
        const char *arg = argv[i], *eq, *value;
        size_t name_len;

        if (arg[0] != '-' || strcmp(arg, "-") == 0)
            break;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (name_len >= sizeof(name))
            return usage_error("unknown option '%s'", arg);
        memcpy(name, arg, name_len);
        name[name_len] = '\0';

        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
            fputs(usage_text, stdout);
            return X0_EXIT_OK;
        }
        if (strcmp(name, "-v") == 0 || strcmp(name, "--version") == 0) {
            printf("x0-runtime %s (quickjs-ng %s, libsodium %s)\n", X0_VERSION, JS_GetVersion(),
                   sodium_version_string());
            return X0_EXIT_OK;
        }
        if (strcmp(name, "--memory-limit") == 0 || strcmp(name, "--stack-size") == 0) {
            int64_t *target = name[2] == 'm' ? &o->memory_limit : &o->stack_size;
            value = option_value(argc, argv, &i, eq ? eq + 1 : NULL);
            if (!value)
                return usage_error("%s needs a size in bytes (e.g. 64M)", name);
            if (parse_size(value, target) < 0)
                return usage_error("invalid size '%s' (a positive integer with an optional K, M or G suffix)", value);
            continue;
        }
        if (strcmp(name, "--strip-debug") == 0) {
            if (eq)
                return usage_error("%s takes no value", name);
            o->strip_debug = true;
            continue;
        }
        if (strcmp(name, "-c") == 0 || strcmp(name, "--compile") == 0 || strcmp(name, "-o") == 0 ||
            strcmp(name, "--out") == 0) {
            bool is_out = name[1] == 'o' || name[2] == 'o';
            value = option_value(argc, argv, &i, eq ? eq + 1 : NULL);
            if (!value)
                return usage_error("%s needs a file name", name);
            *(is_out ? &o->compile_out : &o->compile_in) = value;
            continue;
        }
        return usage_error("unknown option '%s'", arg);
    }
    if (o->compile_in || o->compile_out) {
        if (!o->compile_in || !o->compile_out)
            return usage_error("%s", "--compile IN needs -o OUT (and -o needs --compile)");
        if (i < argc)
            return usage_error("unexpected argument '%s' with --compile", argv[i]);
        return -1;
    }
    if (o->strip_debug)
        return usage_error("%s", "--strip-debug is an option of --compile");
    if (i >= argc)
        return usage_error("%s", "no FILE to run");
    o->file = argv[i];
    o->script_argc = argc - i;
    o->script_argv = argv + i;
    return -1;
}

// Reads the whole file, NUL-terminated (JS_Eval needs it). Returns 0 or an errno value.
static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    int fd, err;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode) || (uint64_t)st.st_size > SOURCE_BYTES_MAX) {
        err = errno ? errno : (S_ISDIR(st.st_mode) ? EISDIR : EFBIG);
        close(fd);
        return err;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO; // the file shrank under us
            free(buf);
            close(fd);
            return err;
        }
        done += (size_t)n;
    }
    close(fd);
    buf[done] = '\0';
    *out = buf;
    *out_len = done;
    return 0;
}

static bool error_is(JSContext *ctx, JSValueConst exc, const char *name, const char *message)
{
    JSValue n, m;
    const char *ns = NULL, *ms = NULL;
    bool same;

    if (!JS_IsError(exc))
        return false;
    n = JS_GetPropertyStr(ctx, exc, "name");
    m = JS_GetPropertyStr(ctx, exc, "message");
    if (JS_IsString(n))
        ns = JS_ToCString(ctx, n);
    if (JS_IsString(m))
        ms = JS_ToCString(ctx, m);
    same = ns && ms && strcmp(ns, name) == 0 && strcmp(ms, message) == 0;
    JS_FreeCString(ctx, ns);
    JS_FreeCString(ctx, ms);
    JS_FreeValue(ctx, n);
    JS_FreeValue(ctx, m);
    return same;
}

// Out of memory: QuickJS-ng's InternalError, or nothing at all (a null exception) when it ran out of memory
// while making that error itself, which happens near the cap (seen on 32-bit MIPS): the heap then fills it.
static bool is_out_of_memory(JSContext *ctx, JSValueConst exc, const struct options *o)
{
    JSMemoryUsage usage;

    if (error_is(ctx, exc, "InternalError", "out of memory"))
        return true;
    if (!JS_IsNull(exc) || o->memory_limit <= 0)
        return false;
    JS_ComputeMemoryUsage(JS_GetRuntime(ctx), &usage);
    return usage.malloc_size + 64 * 1024 >= o->memory_limit;
}

// Prints the pending exception (message, stack, causes) under a line saying what failed, and returns the
// exit code for it: out of memory and stack overflow have their own, anything else gets `code`.
static int report_exception(JSContext *ctx, const struct options *o, const char *file, int code)
{
    JSRuntime *rt = JS_GetRuntime(ctx);
    JSValue exc;

    // The report itself allocates: lift the cap so that an out-of-memory error can still be printed.
    JS_SetMemoryLimit(rt, 0);
    exc = JS_GetException(ctx);
    if (is_out_of_memory(ctx, exc, o)) {
        code = X0_EXIT_OOM;
        if (o->memory_limit > 0)
            fprintf(stderr, "x0-runtime: %s: out of memory (limit %" PRId64 " bytes)\n", file, o->memory_limit);
        else
            fprintf(stderr, "x0-runtime: %s: out of memory\n", file);
    } else if (error_is(ctx, exc, "RangeError", "Maximum call stack size exceeded")) {
        code = X0_EXIT_STACK;
        fprintf(stderr, "x0-runtime: %s: stack overflow (limit %" PRId64 " bytes)\n", file,
                o->stack_size > 0 ? o->stack_size : (int64_t)JS_DEFAULT_STACK_SIZE);
    } else if (code == X0_EXIT_COMPILE) {
        fprintf(stderr, "x0-runtime: %s: cannot compile:\n", file);
    } else {
        fprintf(stderr, "x0-runtime: %s: uncaught exception:\n", file);
    }
    // Out of memory with a null exception (the error itself could not be made): nothing more to print.
    if (!(code == X0_EXIT_OOM && JS_IsNull(exc))) {
        JS_Throw(ctx, exc);
        js_std_dump_error(ctx);
    }
    fflush(stderr);
    return code;
}

static JSContext *new_context(JSRuntime *rt)
{
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx)
        return NULL;
    if (!js_init_module_std(ctx, "qjs:std") || !js_init_module_os(ctx, "qjs:os") ||
        !x0_init_module_net(ctx, "x0:net") || !x0_init_module_crypto(ctx, "x0:crypto") ||
        !x0_init_module_fs(ctx, "x0:fs") || !x0_init_module_tls(ctx, "x0:tls")) {
        JS_FreeContext(ctx);
        return NULL;
    }
    return ctx;
}

static bool is_bytecode(const uint8_t *buf, size_t len)
{
    return len >= sizeof(BYTECODE_MAGIC) - 1 && memcmp(buf, BYTECODE_MAGIC, sizeof(BYTECODE_MAGIC) - 1) == 0;
}

static void bytecode_header(char *out, size_t size)
{
    snprintf(out, size, BYTECODE_MAGIC "quickjs-ng/%s\n", JS_GetVersion());
}

// Checks the header line and reads the module; on a refusal prints why and sets *code.
static JSValue load_bytecode(JSContext *ctx, const char *file, const uint8_t *buf, size_t len, int *code)
{
    char want[BYTECODE_HEADER_MAX];
    const uint8_t *nl;
    size_t header_len;
    JSValue obj;

    bytecode_header(want, sizeof(want));
    nl = memchr(buf, '\n', len < BYTECODE_HEADER_MAX ? len : BYTECODE_HEADER_MAX);
    header_len = nl ? (size_t)(nl - buf) + 1 : 0;
    if (!nl || header_len != strlen(want) || memcmp(buf, want, header_len) != 0) {
        fprintf(stderr, "x0-runtime: %s: bytecode header '%.*s' does not match this runtime's '%.*s'; "
                "recompile it with 'x0-runtime --compile'\n", file, nl ? (int)(header_len - 1) : 20,
                (const char *)buf, (int)strlen(want) - 1, want);
        *code = X0_EXIT_COMPILE;
        return JS_EXCEPTION;
    }
    obj = JS_ReadObject(ctx, buf + header_len, len - header_len, JS_READ_OBJ_BYTECODE);
    if (!JS_IsException(obj) && JS_VALUE_GET_TAG(obj) != JS_TAG_MODULE) {
        JS_FreeValue(ctx, obj);
        JS_ThrowTypeError(ctx, "bytecode does not hold a module");
        return JS_EXCEPTION;
    }
    return obj;
}

// Evaluates the module, then runs the event loop until no timer, handler or job is left.
static int run_module(JSContext *ctx, const struct options *o, const uint8_t *buf, size_t len)
{
    int code = X0_EXIT_OK;
    bool bytecode = is_bytecode(buf, len);
    JSValue module, promise;
    JSPromiseStateEnum state;

    module = bytecode ? load_bytecode(ctx, o->file, buf, len, &code)
                      : JS_Eval(ctx, (const char *)buf, len, o->file, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (code != X0_EXIT_OK)
        return code;
    if (JS_IsException(module))
        return report_exception(ctx, o, o->file, X0_EXIT_COMPILE);
    // Loading the imports now makes a missing module a link error (exit 4) for source and bytecode alike.
    if (JS_ResolveModule(ctx, module) < 0 || js_module_set_import_meta(ctx, module, !bytecode, true) < 0) {
        JS_FreeValue(ctx, module);
        return report_exception(ctx, o, o->file, X0_EXIT_COMPILE);
    }
    promise = JS_EvalFunction(ctx, module);
    if (JS_IsException(promise))
        return report_exception(ctx, o, o->file, X0_EXIT_JS_ERROR);
    // A module that threw synchronously is reported here, with its own exit code, not as a rejection.
    if (JS_PromiseState(ctx, promise) == JS_PROMISE_REJECTED) {
        JS_Throw(ctx, JS_PromiseResult(ctx, promise));
        JS_FreeValue(ctx, promise);
        return report_exception(ctx, o, o->file, X0_EXIT_JS_ERROR);
    }
    if (js_std_loop(ctx) != 0) {
        JS_FreeValue(ctx, promise);
        return report_exception(ctx, o, o->file, X0_EXIT_JS_ERROR);
    }
    state = JS_PromiseState(ctx, promise);
    if (state == JS_PROMISE_REJECTED) {
        JS_Throw(ctx, JS_PromiseResult(ctx, promise));
        code = report_exception(ctx, o, o->file, X0_EXIT_JS_ERROR);
    } else if (state == JS_PROMISE_PENDING) {
        fprintf(stderr, "x0-runtime: %s: top-level await never settled (no timer, handler or job left)\n", o->file);
        code = X0_EXIT_JS_ERROR;
    }
    JS_FreeValue(ctx, promise);
    return code;
}

// Writes header + data to OUT through a temp file and a rename, so a reader never sees half a file.
static int write_bytecode(const char *out, const uint8_t *data, size_t len)
{
    char header[BYTECODE_HEADER_MAX], temp[4096];
    size_t header_len;
    FILE *f;
    int err = 0;

    bytecode_header(header, sizeof(header));
    header_len = strlen(header);
    if ((size_t)snprintf(temp, sizeof(temp), "%s.tmp-%ld", out, (long)getpid()) >= sizeof(temp))
        return ENAMETOOLONG;
    f = fopen(temp, "wb");
    if (!f)
        return errno;
    if (fwrite(header, 1, header_len, f) != header_len || fwrite(data, 1, len, f) != len || fflush(f) != 0 ||
        fsync(fileno(f)) != 0)
        err = errno ? errno : EIO;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(temp, out) != 0)
        err = errno;
    if (err)
        unlink(temp);
    return err;
}

static int compile_module(JSContext *ctx, const struct options *o, const uint8_t *buf, size_t len)
{
    JSValue module;
    uint8_t *data;
    size_t data_len;
    int err;

    if (is_bytecode(buf, len)) {
        fprintf(stderr, "x0-runtime: %s: is already bytecode\n", o->compile_in);
        return X0_EXIT_COMPILE;
    }
    module = JS_Eval(ctx, (const char *)buf, len, o->compile_in, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(module))
        return report_exception(ctx, o, o->compile_in, X0_EXIT_COMPILE);
    // Source text is dropped (a router has no use for Function.prototype.toString); line numbers stay,
    // so stack traces still point into the bundle, unless --strip-debug (docs/benchmarks.md, Packages).
    data = JS_WriteObject(ctx, &data_len, module,
                          JS_WRITE_OBJ_BYTECODE | JS_WRITE_OBJ_STRIP_SOURCE | (o->strip_debug ? JS_WRITE_OBJ_STRIP_DEBUG : 0));
    JS_FreeValue(ctx, module);
    if (!data)
        return report_exception(ctx, o, o->compile_in, X0_EXIT_COMPILE);
    err = write_bytecode(o->compile_out, data, data_len);
    js_free(ctx, data);
    if (err) {
        fprintf(stderr, "x0-runtime: cannot write %s: %s\n", o->compile_out, strerror(err));
        return X0_EXIT_FILE;
    }
    return X0_EXIT_OK;
}

// A handler rather than SIG_IGN: writes to a closed pipe or socket then fail with EPIPE, and children
// started with os.exec get the default SIGPIPE back (an ignored signal would stay ignored across exec).
static void on_sigpipe(int sig)
{
    (void)sig;
}

static JSContext *start_runtime(const struct options *o, int *code)
{
    struct sigaction sa;
    JSRuntime *rt;
    JSContext *ctx;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    if (sodium_init() < 0) {
        fprintf(stderr, "x0-runtime: sodium_init failed\n");
        *code = X0_EXIT_INTERNAL;
        return NULL;
    }
    rt = JS_NewRuntime();
    if (!rt) {
        fprintf(stderr, "x0-runtime: cannot allocate the JS runtime\n");
        *code = X0_EXIT_INTERNAL;
        return NULL;
    }
    if (o->memory_limit > 0)
        JS_SetMemoryLimit(rt, (size_t)o->memory_limit);
    if (o->stack_size > 0)
        JS_SetMaxStackSize(rt, (size_t)o->stack_size);
    js_std_set_worker_new_context_func(new_context);
    js_std_init_handlers(rt);
    ctx = new_context(rt);
    if (!ctx) {
        if (o->memory_limit > 0) {
            fprintf(stderr, "x0-runtime: out of memory (limit %" PRId64 " bytes) while creating the JS context\n",
                    o->memory_limit);
            *code = X0_EXIT_OOM;
        } else {
            fprintf(stderr, "x0-runtime: cannot create the JS context\n");
            *code = X0_EXIT_INTERNAL;
        }
        return NULL;
    }
    JS_SetModuleLoaderFunc2(rt, NULL, js_module_loader, js_module_check_attributes, NULL);
    // Unhandled rejections print their stack and exit 1, like uncaught exceptions.
    JS_SetHostPromiseRejectionTracker(rt, js_std_promise_rejection_tracker, NULL);
    js_std_add_helpers(ctx, o->script_argc, o->script_argv);
    return ctx;
}

int main(int argc, char **argv)
{
    struct options o = { .memory_limit = -1, .stack_size = -1 };
    const char *input;
    JSContext *ctx;
    JSRuntime *rt;
    uint8_t *buf = NULL;
    size_t len = 0;
    int code, err;

    code = parse_options(argc, argv, &o);
    if (code >= 0)
        return code;
    input = o.compile_in ? o.compile_in : o.file;
    err = read_file(input, &buf, &len);
    if (err) {
        fprintf(stderr, "x0-runtime: cannot open %s: %s\n", input, strerror(err));
        return X0_EXIT_FILE;
    }
    ctx = start_runtime(&o, &code);
    if (!ctx) {
        free(buf);
        return code;
    }
    code = o.compile_in ? compile_module(ctx, &o, buf, len) : run_module(ctx, &o, buf, len);
    free(buf);
    fflush(stdout);
    if (code != X0_EXIT_OK)
        return code; // skip the teardown: a failed run may hold references the checks would trip on
    rt = JS_GetRuntime(ctx);
    js_std_free_handlers(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return X0_EXIT_OK;
}
