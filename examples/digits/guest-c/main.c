/*
 * The digits demo guest (examples/digits/README.md) in C: classify 8x8 PGM images, or measure
 * accuracy on heldout.bin, through wasi-nn. Built only on witxgen's generated header
 * (generated/c/wasi_ephemeral_nn.h) and wasi-libc (file reads):
 *
 *   clang-14 --target=wasm32-wasi -O2 -I generated/c main.c -o digits-c.wasm
 *   witxgen run --nn-graph openvino::build/demo/models/digits --dir examples/digits \
 *       digits-c.wasm examples/digits/images/digit-3-2.pgm
 *
 * Usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)
 *   default model: load_by_name("digits"); --name picks another preloaded name;
 *   --model DIR reads DIR/model.xml and DIR/model.bin and calls load (encoding openvino).
 * Prints `IMAGE: L (p), L (p), L (p)` (top 3) per image, or `accuracy N/M` for --heldout.
 * Exit codes: 0 done, 1 a wasi-nn call failed, 2 bad usage or a bad/unreadable input file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_ephemeral_nn.h"

#define SIDE 8
#define PIXELS (SIDE * SIDE)
#define CLASSES 10
#define DEFAULT_NAME "digits"
#define USAGE "usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)"

__attribute__((format(printf, 2, 3))) _Noreturn static void die(int code, const char *fmt,
                                                                  ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void check_nn(const char *call, wasi_nn_nn_errno_t e) {
    if (e != WASI_NN_NN_ERRNO_SUCCESS) {
        die(1, "wasi-nn %s failed: %s", call, wasi_nn_nn_errno_name(e));
    }
}

/* The whole file, or NULL with `*why` set (strerror of the failure). */
static uint8_t *read_file(const char *path, size_t *len, const char **why) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *why = strerror(errno);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            *why = "out of memory";
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        cap *= 2;
        uint8_t *bigger = realloc(buf, cap);
        if (bigger == NULL) free(buf);
        buf = bigger;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        *why = "read error";
        return NULL;
    }
    *len = n;
    return buf;
}

static uint8_t *read_or_die(const char *path, size_t *len) {
    const char *why = NULL;
    uint8_t *data = read_file(path, len, &why);
    if (data == NULL) die(2, "%s: cannot read: %s", path, why);
    return data;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- PGM ------------------------------------------------------------------------------ */

static int is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next header number after whitespace and `#` comments; -1 when there is none. */
static long pgm_number(const uint8_t *data, size_t len, size_t *pos) {
    while (*pos < len) {
        if (is_space(data[*pos])) {
            ++*pos;
        } else if (data[*pos] == '#') {
            while (*pos < len && data[*pos] != '\n' && data[*pos] != '\r') ++*pos;
        } else {
            break;
        }
    }
    size_t start = *pos;
    long value = 0;
    while (*pos < len && data[*pos] >= '0' && data[*pos] <= '9') {
        value = value * 10 + (data[*pos] - '0');
        if (value > 0xFFFFFFFFL) return -1;
        ++*pos;
    }
    return *pos == start ? -1 : value;
}

/* A binary PGM (P5) of 8x8 pixels as the model's input, pixels scaled to 0..16. Returns NULL
 * on success, else the message (in `msg`). */
static const char *parse_pgm(const uint8_t *data, size_t len, float pixels[PIXELS],
                             char *msg, size_t msg_size) {
    static const char *const what[3] = {"width", "height", "maxval"};
    long fields[3];
    if (len < 2 || data[0] != 'P' || data[1] != '5') {
        return "not a binary PGM (no P5 magic number)";
    }
    size_t pos = 2;
    for (int i = 0; i < 3; i++) {
        fields[i] = pgm_number(data, len, &pos);
        if (fields[i] < 0) {
            snprintf(msg, msg_size, "bad PGM header: no %s", what[i]);
            return msg;
        }
    }
    long width = fields[0], height = fields[1], maxval = fields[2];
    if (width != SIDE || height != SIDE) {
        snprintf(msg, msg_size, "image is %ldx%ld, expected %dx%d", width, height, SIDE, SIDE);
        return msg;
    }
    if (maxval < 1 || maxval > 255) {
        snprintf(msg, msg_size, "maxval %ld is not in 1..255", maxval);
        return msg;
    }
    if (pos >= len || !is_space(data[pos])) return "bad PGM header: no whitespace after maxval";
    pos++;
    if (len - pos < PIXELS) {
        snprintf(msg, msg_size, "truncated: %zu pixel bytes, expected %d", len - pos, PIXELS);
        return msg;
    }
    for (int i = 0; i < PIXELS; i++) {
        uint8_t p = data[pos + i];
        if (p > maxval) {
            snprintf(msg, msg_size, "pixel value %u exceeds maxval %ld", p, maxval);
            return msg;
        }
        pixels[i] = (float)(p * 16) / (float)maxval;
    }
    return NULL;
}

/* ---- wasi-nn -------------------------------------------------------------------------- */

/* Preloaded by the host (`--nn-graph openvino::.../NAME`), or read from `model_dir`. */
static wasi_nn_graph_execution_context_t open_model(const char *model_dir, const char *name) {
    wasi_nn_graph_t graph = 0;
    if (model_dir == NULL) {
        check_nn("load_by_name", wasi_nn_load_by_name(name, strlen(name), &graph));
    } else {
        char path[1024];
        size_t xml_len = 0, bin_len = 0;
        snprintf(path, sizeof path, "%s/model.xml", model_dir);
        uint8_t *xml = read_or_die(path, &xml_len);
        snprintf(path, sizeof path, "%s/model.bin", model_dir);
        uint8_t *bin = read_or_die(path, &bin_len);
        const wasi_nn_graph_builder_t builders[2] = {{xml, xml_len}, {bin, bin_len}};
        check_nn("load", wasi_nn_load(builders, 2, WASI_NN_GRAPH_ENCODING_OPENVINO,
                                      WASI_NN_EXECUTION_TARGET_CPU, &graph));
        free(xml);  /* the host has its own copy once load returns */
        free(bin);
    }
    wasi_nn_graph_execution_context_t ctx = 0;
    check_nn("init_execution_context", wasi_nn_init_execution_context(graph, &ctx));
    return ctx;
}

static void classify(wasi_nn_graph_execution_context_t ctx, const float pixels[PIXELS],
                     float scores[CLASSES]) {
    static const uint32_t dims[2] = {1, PIXELS};
    const wasi_nn_tensor_t tensor = {
        .dimensions = {dims, 2},
        .type = WASI_NN_TENSOR_TYPE_F32,
        .data = {(const uint8_t *)pixels, PIXELS * sizeof(float)},  /* wasm32: little-endian */
    };
    check_nn("set_input", wasi_nn_set_input(ctx, 0, &tensor));
    check_nn("compute", wasi_nn_compute(ctx));
    wasi_nn_buffer_size_t written = 0;
    check_nn("get_output", wasi_nn_get_output(ctx, 0, (uint8_t *)scores,
                                              CLASSES * sizeof(float), &written));
    if (written != CLASSES * sizeof(float)) {
        die(1, "output 0 is %u bytes, expected %zu", (unsigned)written, CLASSES * sizeof(float));
    }
}

/* Class indices by descending score; equal scores keep the lower class first. */
static void ranking(const float scores[CLASSES], int order[CLASSES]) {
    for (int i = 0; i < CLASSES; i++) order[i] = i;
    for (int i = 1; i < CLASSES; i++) {
        for (int j = i; j > 0 && scores[order[j]] > scores[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
}

static int heldout(wasi_nn_graph_execution_context_t ctx, const char *path) {
    size_t len = 0;
    uint8_t *data = read_or_die(path, &len);
    if (len < 4) die(2, "%s: too short for a heldout file", path);
    uint32_t count = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
    if ((uint64_t)len - 4 != (uint64_t)count * (PIXELS + 1)) {
        die(2, "%s: %u records need %llu bytes after the count, found %zu", path, count,
            (unsigned long long)count * (PIXELS + 1), len - 4);
    }
    uint32_t correct = 0;
    for (uint32_t r = 0; r < count; r++) {
        const uint8_t *record = data + 4 + (size_t)r * (PIXELS + 1);
        float pixels[PIXELS], scores[CLASSES];
        int order[CLASSES];
        for (int i = 0; i < PIXELS; i++) pixels[i] = (float)record[i];
        classify(ctx, pixels, scores);
        ranking(scores, order);
        if (order[0] == record[PIXELS]) correct++;
    }
    free(data);
    printf("accuracy %u/%u\n", correct, count);
    return 0;
}

static int images(wasi_nn_graph_execution_context_t ctx, char **paths, int n) {
    int status = 0;
    for (int k = 0; k < n; k++) {
        size_t len = 0;
        const char *why = NULL;
        uint8_t *data = read_file(paths[k], &len, &why);
        if (data == NULL) {
            fprintf(stderr, "error: %s: cannot read: %s\n", paths[k], why);
            status = 2;
            continue;
        }
        float pixels[PIXELS], scores[CLASSES];
        int order[CLASSES];
        char msg[128];
        const char *bad = parse_pgm(data, len, pixels, msg, sizeof msg);
        free(data);
        if (bad != NULL) {
            fprintf(stderr, "error: %s: %s\n", paths[k], bad);
            status = 2;
            continue;
        }
        classify(ctx, pixels, scores);
        ranking(scores, order);
        printf("%s: %d (%.3f), %d (%.3f), %d (%.3f)\n", base_name(paths[k]), order[0],
               (double)scores[order[0]], order[1], (double)scores[order[1]], order[2],
               (double)scores[order[2]]);
    }
    return status;
}

int main(int argc, char **argv) {
    const char *model_dir = NULL, *name = DEFAULT_NAME, *heldout_file = NULL;
    char **paths = malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    int n = 0;
    if (paths == NULL) die(1, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot = strcmp(arg, "--model") == 0     ? &model_dir
                            : strcmp(arg, "--name") == 0    ? &name
                            : strcmp(arg, "--heldout") == 0 ? &heldout_file
                                                            : NULL;
        if (slot != NULL) {
            if (i + 1 >= argc) die(2, "%s needs a value\n" USAGE, arg);
            *slot = argv[++i];
        } else if (strncmp(arg, "--", 2) == 0) {
            die(2, "unknown option %s\n" USAGE, arg);
        } else {
            paths[n++] = argv[i];
        }
    }
    if (heldout_file == NULL && n == 0) die(2, "no images given\n" USAGE);
    if (heldout_file != NULL && n > 0) die(2, "--heldout takes no images\n" USAGE);
    wasi_nn_graph_execution_context_t ctx = open_model(model_dir, name);
    int status = heldout_file != NULL ? heldout(ctx, heldout_file) : images(ctx, paths, n);
    free(paths);
    return status;
}
