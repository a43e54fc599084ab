// x0:fs — the file-system calls qjs:os lacks and durable writes need: fsync (a file, or a directory after a
// rename), so that "temp file + fsync + rename + fsync(dir)" survives a power cut on the router's flash;
// fchmod, because open()'s mode passes through the umask; errnoName, because qjs:os reports errors as
// negative numbers whose values differ between architectures (MIPS), while their names do not.
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "x0.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

// fsync(fd) / fdatasync(fd) -> null | { error }
static JSValue x0_fs_fsync(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    int fd, rc;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0)
        return JS_EXCEPTION;
    rc = magic ? fdatasync(fd) : fsync(fd);
    return rc < 0 ? x0_error_result(ctx, errno) : JS_NULL;
}

// fchmod(fd, mode) -> null | { error }
static JSValue x0_fs_fchmod(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t mode;
    int fd;
    (void)this_val;
    (void)argc;

    if (x0_get_fd(ctx, argv[0], "fd", &fd) < 0 || x0_get_uint(ctx, argv[1], "mode", 0, 07777, &mode) < 0)
        return JS_EXCEPTION;
    return fchmod(fd, (mode_t)mode) < 0 ? x0_error_result(ctx, errno) : JS_NULL;
}

// errnoName(errno) -> 'ENOENT' (the sign is ignored: qjs:os returns -errno)
static JSValue x0_fs_errno_name(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t err;
    (void)this_val;
    (void)argc;

    if (!JS_IsNumber(argv[0]))
        return JS_ThrowTypeError(ctx, "errno must be a number");
    if (JS_ToInt32(ctx, &err, argv[0]) < 0)
        return JS_EXCEPTION;
    return JS_NewString(ctx, x0_errno_name(err < 0 ? -err : err));
}

static const JSCFunctionListEntry x0_fs_funcs[] = {
    JS_CFUNC_DEF("fchmod", 2, x0_fs_fchmod),
    JS_CFUNC_DEF("errnoName", 1, x0_fs_errno_name),
    JS_CFUNC_MAGIC_DEF("fsync", 1, x0_fs_fsync, 0),
    JS_CFUNC_MAGIC_DEF("fdatasync", 1, x0_fs_fsync, 1),
};

static int x0_fs_init(JSContext *ctx, JSModuleDef *m)
{
    return JS_SetModuleExportList(ctx, m, x0_fs_funcs, countof(x0_fs_funcs));
}

JSModuleDef *x0_init_module_fs(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, x0_fs_init);
    if (!m)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, x0_fs_funcs, countof(x0_fs_funcs)) < 0)
        return NULL;
    return m;
}
