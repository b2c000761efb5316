/*
 * The wasi-nn run-test scenario (tests/guests/SCENARIO.md) as a C guest, built only on
 * witxgen's generated header: clang-14 --target=wasm32-wasi -I generated/c.
 * Prints `FAIL step N: ...` and exits 1 on the first mismatch, else prints PASS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi_ephemeral_nn.h"

static void fail(int step, const char *what) {
    printf("FAIL step %d: %s\n", step, what);
    exit(1);
}

static void expect(int step, wasi_nn_nn_errno_t got, wasi_nn_nn_errno_t want) {
    if (got != want) {
        char what[96];
        snprintf(what, sizeof what, "expected %s, got %s (%u)", wasi_nn_nn_errno_name(want),
                 wasi_nn_nn_errno_name(got), (unsigned)got);
        fail(step, what);
    }
}

#define BYTES(s) {(const uint8_t *)(s), sizeof(s) - 1}

int main(void) {
    const wasi_nn_graph_builder_t ir_model[] = {BYTES("<xml/>"), BYTES("\x01\x02\x03")};
    const wasi_nn_graph_builder_t two[] = {BYTES("a"), BYTES("b")};
    wasi_nn_graph_t g1 = 0, g2 = 0, unused = 0;
    wasi_nn_graph_execution_context_t ctx = 0, unused_ctx = 0;

    expect(1, wasi_nn_load(ir_model, 2, WASI_NN_GRAPH_ENCODING_OPENVINO,
                           WASI_NN_EXECUTION_TARGET_CPU, &g1), WASI_NN_NN_ERRNO_SUCCESS);
    expect(2, wasi_nn_load(ir_model, 1, WASI_NN_GRAPH_ENCODING_OPENVINO,
                           WASI_NN_EXECUTION_TARGET_CPU, &unused),
           WASI_NN_NN_ERRNO_INVALID_ARGUMENT);
    expect(3, wasi_nn_load(two, 2, WASI_NN_GRAPH_ENCODING_ONNX, WASI_NN_EXECUTION_TARGET_CPU,
                           &unused), WASI_NN_NN_ERRNO_INVALID_ENCODING);
    expect(4, wasi_nn_load(two, 2, WASI_NN_GRAPH_ENCODING_OPENVINO,
                           WASI_NN_EXECUTION_TARGET_TPU, &unused),
           WASI_NN_NN_ERRNO_UNSUPPORTED_OPERATION);

    expect(5, wasi_nn_load_by_name("add1", 4, &g2), WASI_NN_NN_ERRNO_SUCCESS);
    if (g2 == g1) fail(5, "load_by_name returned the handle of the first graph");
    expect(6, wasi_nn_load_by_name("nope", 4, &unused), WASI_NN_NN_ERRNO_NOT_FOUND);

    expect(7, wasi_nn_init_execution_context(g1, &ctx), WASI_NN_NN_ERRNO_SUCCESS);
    expect(8, wasi_nn_init_execution_context(0x7FFFFFF0u, &unused_ctx),
           WASI_NN_NN_ERRNO_INVALID_ARGUMENT);

    const uint32_t dims[] = {1, 4};
    const float input[] = {1.0f, 2.0f, 3.0f, 4.0f};  // wasm32 is little-endian
    const wasi_nn_tensor_t tensor = {
        .dimensions = {dims, 2},
        .type = WASI_NN_TENSOR_TYPE_F32,
        .data = {(const uint8_t *)input, sizeof input},
    };
    expect(9, wasi_nn_set_input(ctx, 0, &tensor), WASI_NN_NN_ERRNO_SUCCESS);
    expect(10, wasi_nn_set_input(ctx, 1, &tensor), WASI_NN_NN_ERRNO_INVALID_ARGUMENT);

    float out[4] = {0};
    wasi_nn_buffer_size_t written = 0;
    expect(11, wasi_nn_get_output(ctx, 0, (uint8_t *)out, sizeof out, &written),
           WASI_NN_NN_ERRNO_INVALID_ARGUMENT);
    expect(12, wasi_nn_compute(ctx), WASI_NN_NN_ERRNO_SUCCESS);
    expect(13, wasi_nn_get_output(ctx, 0, (uint8_t *)out, sizeof out, &written),
           WASI_NN_NN_ERRNO_SUCCESS);
    if (written != 16) fail(13, "expected 16 bytes written");
    const float want[] = {2.0f, 3.0f, 4.0f, 5.0f};
    if (memcmp(out, want, sizeof want) != 0) fail(13, "output is not input + 1");

    uint8_t small[8];
    expect(14, wasi_nn_get_output(ctx, 0, small, sizeof small, &written),
           WASI_NN_NN_ERRNO_TOO_LARGE);
    expect(15, wasi_nn_get_output(ctx, 3, (uint8_t *)out, sizeof out, &written),
           WASI_NN_NN_ERRNO_INVALID_ARGUMENT);

    printf("PASS\n");
    return 0;
}
