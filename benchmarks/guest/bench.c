/*
 * The benchmark guest of benchmarks/suite.py: loops over set_input + compute + get_output and
 * reports, per iteration, the time of each call measured inside the guest with WASI's
 * clock_time_get (wasi-libc's clock_gettime(CLOCK_MONOTONIC)). The same .wasm runs under
 * `witxgen run` and under the wasmtime CLI (`wasmtime run -S nn`). Built only on witxgen's
 * generated header (generated/c/wasi_ephemeral_nn.h) and wasi-libc:
 *
 *   clang-14 --target=wasm32-wasi -O2 -I generated/c benchmarks/guest/bench.c -o bench-c.wasm
 *
 * Usage:
 *   bench (--name NAME | --model DIR [--onnx]) --dims D0,D1,... --out-floats N
 *         [--iters N] [--warmup N] [--range LO,HI]
 *
 *   --name NAME   load_by_name(NAME): the host preloaded the model (--nn-graph / -S nn-graph)
 *   --model DIR   read DIR/model.xml + DIR/model.bin (or DIR/model.onnx with --onnx) into guest
 *                 memory and pass them to load (the load time then includes the host's read
 *                 and compile of the model)
 *   --dims        the f32 input's dimensions; the input is filled with a fixed pseudo-random
 *                 sequence (LCG, see fill_input) uniform in [LO, HI) (default -1,1)
 *   --out-floats  output 0's size in f32 elements
 *   --warmup N    iterations run before the measured ones (default 3); the first one is
 *                 reported as `first_ns`
 *   --iters N     measured iterations (default 10)
 *
 * Output, one `key value...` line each (times in nanoseconds):
 *   clock_ns MIN MEDIAN      cost of one clock_gettime, from 201 back-to-back calls
 *   load_ns T                load or load_by_name
 *   init_ns T                init_execution_context
 *   first_ns T               the first set_input + compute + get_output
 *   set_input_ns T...        per measured iteration
 *   compute_ns T...
 *   get_output_ns T...
 *   iter_ns T...             the whole iteration (the three calls + two clock reads between them)
 *   checksum S               sum over output 0 of (i % 7 + 1) * out[i], in double
 *   argmax K
 * Exit codes: 0 done, 1 a wasi-nn call failed, 2 bad usage or unreadable model file.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasi_ephemeral_nn.h"

#define MAX_DIMS 8
#define USAGE                                                                               \
    "usage: bench (--name NAME | --model DIR [--onnx]) --dims D0,D1,... --out-floats N " \
    "[--iters N] [--warmup N] [--range LO,HI]"

static void die(int code, const char *what, const char *detail) {
    fprintf(stderr, "error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(code);
}

static void check_nn(const char *call, wasi_nn_nn_errno_t e) {
    if (e != WASI_NN_NN_ERRNO_SUCCESS) die(1, call, wasi_nn_nn_errno_name(e));
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) die(2, path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) die(2, path, "cannot seek");
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) die(2, path, "cannot seek");
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL) die(2, path, "out of memory");
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) die(2, path, "short read");
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The input: state = state * 1664525 + 1013904223 (mod 2^32) from state 12345; each element
 * is lo + (hi - lo) * ((state >> 8) / 2^24), computed in f32 (benchmarks/suite.py repeats it
 * with numpy to feed native OpenVINO and onnxruntime the same tensor). */
static void fill_input(float *x, size_t n, float lo, float hi) {
    uint32_t state = 12345u;
    for (size_t i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        float u = (float)(state >> 8) * (1.0f / 16777216.0f);
        x[i] = lo + (hi - lo) * u;
    }
}

static void print_series(const char *key, const uint64_t *values, int n) {
    printf("%s", key);
    for (int i = 0; i < n; i++) printf(" %llu", (unsigned long long)values[i]);
    putchar('\n');
}

int main(int argc, char **argv) {
    const char *name = NULL, *model_dir = NULL;
    int onnx = 0, iters = 10, warmup = 3;
    long out_floats = -1;
    uint32_t dims[MAX_DIMS];
    size_t rank = 0;
    float lo = -1.0f, hi = 1.0f;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--onnx") == 0) {
            onnx = 1;
            continue;
        }
        if (i + 1 >= argc) die(2, arg, "needs a value\n" USAGE);
        const char *value = argv[++i];
        if (strcmp(arg, "--name") == 0) {
            name = value;
        } else if (strcmp(arg, "--model") == 0) {
            model_dir = value;
        } else if (strcmp(arg, "--iters") == 0) {
            iters = atoi(value);
        } else if (strcmp(arg, "--warmup") == 0) {
            warmup = atoi(value);
        } else if (strcmp(arg, "--out-floats") == 0) {
            out_floats = atol(value);
        } else if (strcmp(arg, "--range") == 0) {
            if (sscanf(value, "%f,%f", &lo, &hi) != 2) die(2, "--range", "expected LO,HI");
        } else if (strcmp(arg, "--dims") == 0) {
            const char *p = value;
            while (*p) {
                if (rank == MAX_DIMS) die(2, "--dims", "too many dimensions");
                char *end;
                unsigned long d = strtoul(p, &end, 10);
                if (end == p || d == 0) die(2, "--dims", "expected D0,D1,...");
                dims[rank++] = (uint32_t)d;
                p = *end == ',' ? end + 1 : end;
                if (*end != ',' && *end != '\0') die(2, "--dims", "expected D0,D1,...");
            }
        } else {
            die(2, arg, "unknown option\n" USAGE);
        }
    }
    if ((name == NULL) == (model_dir == NULL)) die(2, "give one of --name and --model", USAGE);
    if (rank == 0 || out_floats <= 0 || iters < 0 || warmup < 1) die(2, "bad arguments", USAGE);

    /* the clock's own cost */
    uint64_t clock_diffs[200];
    uint64_t prev = now_ns();
    for (int i = 0; i < 200; i++) {
        uint64_t t = now_ns();
        clock_diffs[i] = t - prev;
        prev = t;
    }
    qsort(clock_diffs, 200, sizeof clock_diffs[0], cmp_u64);
    printf("clock_ns %llu %llu\n", (unsigned long long)clock_diffs[0],
           (unsigned long long)clock_diffs[100]);

    size_t n_in = 1;
    for (size_t i = 0; i < rank; i++) n_in *= dims[i];
    float *input = malloc(n_in * sizeof(float));
    float *output = malloc((size_t)out_floats * sizeof(float));
    uint64_t *series = malloc(4 * (size_t)(iters > 0 ? iters : 1) * sizeof(uint64_t));
    if (input == NULL || output == NULL || series == NULL) die(2, "out of memory", NULL);
    fill_input(input, n_in, lo, hi);

    wasi_nn_graph_t graph = 0;
    uint64_t t0 = now_ns();
    if (name != NULL) {
        check_nn("load_by_name", wasi_nn_load_by_name(name, strlen(name), &graph));
    } else {
        char path[1024];
        wasi_nn_graph_builder_t builders[2];
        size_t count = 0;
        const char *files[2] = {onnx ? "model.onnx" : "model.xml", onnx ? NULL : "model.bin"};
        for (int k = 0; k < 2 && files[k] != NULL; k++) {
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s", model_dir, files[k]);
            builders[count].ptr = read_file(path, &len);
            builders[count].len = len;
            count++;
        }
        t0 = now_ns(); /* the load call itself, not the guest's file reads */
        check_nn("load", wasi_nn_load(builders, count,
                                      onnx ? WASI_NN_GRAPH_ENCODING_ONNX
                                           : WASI_NN_GRAPH_ENCODING_OPENVINO,
                                      WASI_NN_EXECUTION_TARGET_CPU, &graph));
        for (size_t k = 0; k < count; k++) free((void *)builders[k].ptr);
    }
    uint64_t t1 = now_ns();
    wasi_nn_graph_execution_context_t ctx = 0;
    check_nn("init_execution_context", wasi_nn_init_execution_context(graph, &ctx));
    uint64_t t2 = now_ns();
    printf("load_ns %llu\ninit_ns %llu\n", (unsigned long long)(t1 - t0),
           (unsigned long long)(t2 - t1));

    const wasi_nn_tensor_t tensor = {
        .dimensions = {dims, rank},
        .type = WASI_NN_TENSOR_TYPE_F32,
        .data = {(const uint8_t *)input, n_in * sizeof(float)}, /* wasm32: little-endian */
    };
    const wasi_nn_buffer_size_t out_bytes = (wasi_nn_buffer_size_t)(out_floats * sizeof(float));
    uint64_t *set_ns = series, *compute_ns = series + iters, *get_ns = series + 2 * iters,
             *iter_ns = series + 3 * iters;
    for (int i = -warmup; i < iters; i++) {
        wasi_nn_buffer_size_t written = 0;
        uint64_t a = now_ns();
        check_nn("set_input", wasi_nn_set_input(ctx, 0, &tensor));
        uint64_t b = now_ns();
        check_nn("compute", wasi_nn_compute(ctx));
        uint64_t c = now_ns();
        check_nn("get_output", wasi_nn_get_output(ctx, 0, (uint8_t *)output, out_bytes,
                                                  &written));
        uint64_t d = now_ns();
        if (written != out_bytes) die(1, "get_output", "unexpected output size");
        if (i == -warmup) printf("first_ns %llu\n", (unsigned long long)(d - a));
        if (i >= 0) {
            set_ns[i] = b - a;
            compute_ns[i] = c - b;
            get_ns[i] = d - c;
            iter_ns[i] = d - a;
        }
    }
    print_series("set_input_ns", set_ns, iters);
    print_series("compute_ns", compute_ns, iters);
    print_series("get_output_ns", get_ns, iters);
    print_series("iter_ns", iter_ns, iters);
    double checksum = 0.0;
    long best = 0;
    for (long i = 0; i < out_floats; i++) {
        checksum += (double)(i % 7 + 1) * (double)output[i];
        if (output[i] > output[best]) best = i;
    }
    printf("checksum %.17g\nargmax %ld\n", checksum, best);
    return 0;
}
