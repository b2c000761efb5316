/*
 * Exercises witxgen's WASI preview1 header against a real WASI host (wasmtime-py): tuple
 * results, pointer-to-pointer params, u64 params and results, a union result, string and
 * list params, u64 flags (i64 core params) and the noreturn proc_exit. Run with the args
 * `smoke first second` and a preopened directory named `sandbox`; on success it writes
 * `sandbox/out.txt`, prints `preview1 ok` and exits 7 through proc_exit.
 */
#include <string.h>

#include "wasi_snapshot_preview1.h"

static void say(const char *text) {
    const wasi_preview1_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
    wasi_preview1_size_t written;
    (void)wasi_preview1_fd_write(1, &iov, 1, &written);
}

static void check(int ok, const char *what) {
    if (!ok) {
        say("FAIL ");
        say(what);
        say("\n");
        wasi_preview1_proc_exit(1);
    }
}

#define OK(call) check((call) == WASI_PREVIEW1_ERRNO_SUCCESS, #call)

int main(void) {
    wasi_preview1_size_t argc = 0, argv_size = 0;
    OK(wasi_preview1_args_sizes_get(&argc, &argv_size));
    check(argc == 3 && argv_size == sizeof "smoke" + sizeof "first" + sizeof "second", "argc");
    uint8_t *argv[3];
    uint8_t argv_buf[32];
    OK(wasi_preview1_args_get(argv, argv_buf));
    check(strcmp((const char *)argv[2], "second") == 0, "argv[2]");

    wasi_preview1_timestamp_t now = 0;
    OK(wasi_preview1_clock_time_get(WASI_PREVIEW1_CLOCKID_REALTIME, 1, &now));
    check(now > UINT64_C(1600000000) * 1000000000u, "realtime clock after 2020");

    wasi_preview1_prestat_t prestat;
    OK(wasi_preview1_fd_prestat_get(3, &prestat));
    check(prestat.tag == WASI_PREVIEW1_PREOPENTYPE_DIR, "prestat tag");
    check(prestat.u.dir.pr_name_len == strlen("sandbox"), "prestat name length");
    uint8_t dir_name[16] = {0};
    OK(wasi_preview1_fd_prestat_dir_name(3, dir_name, prestat.u.dir.pr_name_len));
    check(memcmp(dir_name, "sandbox", 7) == 0, "preopen name");

    wasi_preview1_fd_t fd = 0;
    const char *name = "out.txt";
    OK(wasi_preview1_path_open(3, WASI_PREVIEW1_LOOKUPFLAGS_SYMLINK_FOLLOW, name, strlen(name),
                               WASI_PREVIEW1_OFLAGS_CREAT | WASI_PREVIEW1_OFLAGS_TRUNC,
                               WASI_PREVIEW1_RIGHTS_FD_WRITE | WASI_PREVIEW1_RIGHTS_FD_FILESTAT_GET,
                               0, 0, &fd));
    // Hosts may write only part of a list (wasmtime takes the first non-empty buffer),
    // so the text sits in the second element: that still checks the 8-byte stride.
    const wasi_preview1_ciovec_t parts[] = {
        {(const uint8_t *)"", 0},
        {(const uint8_t *)"written through witxgen\n", 24},
    };
    wasi_preview1_size_t n = 0;
    OK(wasi_preview1_fd_write(fd, parts, 2, &n));
    check(n == 24, "bytes written");
    wasi_preview1_filestat_t stat;
    OK(wasi_preview1_fd_filestat_get(fd, &stat));
    check(stat.size == 24 && stat.filetype == WASI_PREVIEW1_FILETYPE_REGULAR_FILE, "filestat");
    OK(wasi_preview1_fd_close(fd));

    uint8_t random[16] = {0};
    OK(wasi_preview1_random_get(random, sizeof random));

    check(wasi_preview1_fd_close(12345) == WASI_PREVIEW1_ERRNO_BADF, "close of a bad fd");
    say("preview1 ok\n");
    wasi_preview1_proc_exit(7);
}
