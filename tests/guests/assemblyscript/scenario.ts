// The wasi-nn run-test scenario of tests/guests/SCENARIO.md, in AssemblyScript, built only on
// witxgen's generated bindings (no hand-written imports). Build from the repo root:
//   node_modules/.bin/asc tests/guests/assemblyscript/scenario.ts \
//     --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json -o scenario.wasm
import * as nn from "../../../generated/assemblyscript/wasi_ephemeral_nn";
import {
  ExecutionTarget,
  GraphEncoding,
  NnErrno,
  Result,
  Tensor,
  TensorDimensions,
  TensorType,
} from "../../../generated/assemblyscript/wasi_ephemeral_nn";

function fail(step: i32, what: string): void {
  console.log("FAIL step " + step.toString() + ": " + what);
  process.exit(1);
}

function expectCode(step: i32, got: NnErrno, want: NnErrno): void {
  if (got != want) {
    fail(step, "errno " + got.toString() + " (" + NnErrno.name(got) + "), expected " +
      want.toString() + " (" + NnErrno.name(want) + ")");
  }
}

function expectOk<T>(step: i32, r: Result<T, NnErrno>): T {
  expectCode(step, r.error, NnErrno.SUCCESS);
  return r.value;
}

function bytes(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

function main(): void {
  const xml = bytes("<xml/>");
  const weights = new Uint8Array(3);
  weights[0] = 1;
  weights[1] = 2;
  weights[2] = 3;
  const g1 = expectOk(1, nn.load([xml, weights], GraphEncoding.OPENVINO, ExecutionTarget.CPU));

  expectCode(2, nn.load([xml], GraphEncoding.OPENVINO, ExecutionTarget.CPU).error,
    NnErrno.INVALID_ARGUMENT);
  const a = bytes("a");
  const b = bytes("b");
  expectCode(3, nn.load([a, b], GraphEncoding.ONNX, ExecutionTarget.CPU).error,
    NnErrno.INVALID_ENCODING);
  expectCode(4, nn.load([a, b], GraphEncoding.OPENVINO, ExecutionTarget.TPU).error,
    NnErrno.UNSUPPORTED_OPERATION);

  const g2 = expectOk(5, nn.loadByName("add1"));
  if (g2 == g1) fail(5, "load_by_name returned the handle of step 1 again");
  expectCode(6, nn.loadByName("nope").error, NnErrno.NOT_FOUND);

  const ctx = expectOk(7, nn.initExecutionContext(g1));
  expectCode(8, nn.initExecutionContext(0x7FFFFFF0).error, NnErrno.INVALID_ARGUMENT);

  const dims: TensorDimensions = [1, 4];
  const values = new Float32Array(4);
  for (let i = 0; i < 4; i++) values[i] = <f32>(i + 1);
  const tensor = new Tensor();  // @unmanaged: freed below
  tensor.setDimensions(dims);
  tensor.type = TensorType.F32;
  tensor.setData(values);  // any ArrayBufferView: its bytes (wasm32 is little-endian)
  expectCode(9, nn.setInput(ctx, 0, tensor), NnErrno.SUCCESS);
  expectCode(10, nn.setInput(ctx, 1, tensor), NnErrno.INVALID_ARGUMENT);
  heap.free(changetype<usize>(tensor));

  const out = new Uint8Array(16);
  expectCode(11, nn.getOutput(ctx, 0, out.dataStart, out.length).error,
    NnErrno.INVALID_ARGUMENT);
  expectCode(12, nn.compute(ctx), NnErrno.SUCCESS);
  const written = expectOk(13, nn.getOutput(ctx, 0, out.dataStart, out.length));
  if (written != 16) fail(13, "wrote " + written.toString() + " bytes, expected 16");
  const result = Float32Array.wrap(out.buffer);
  for (let i = 0; i < 4; i++) {
    if (result[i] != <f32>(i + 2)) {
      fail(13, "output[" + i.toString() + "] = " + result[i].toString());
    }
  }

  const small = new Uint8Array(8);
  expectCode(14, nn.getOutput(ctx, 0, small.dataStart, small.length).error,
    NnErrno.TOO_LARGE);
  expectCode(15, nn.getOutput(ctx, 3, out.dataStart, out.length).error,
    NnErrno.INVALID_ARGUMENT);

  console.log("PASS");
}

main();
