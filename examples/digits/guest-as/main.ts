// The digits demo guest (examples/digits/README.md) in AssemblyScript: classify 8x8 PGM images,
// or measure accuracy on heldout.bin, through wasi-nn. wasi-nn comes only from witxgen's
// generated bindings (generated/assemblyscript/); files are read with the WASI shim's preview1
// declarations (AssemblyScript has no file API). Build from the repo root:
//
//   node_modules/.bin/asc examples/digits/guest-as/main.ts -O \
//     --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json -o digits-as.wasm
//   witxgen run --nn-graph openvino::build/demo/models/digits --dir examples/digits \
//       digits-as.wasm examples/digits/images/digit-3-2.pgm
//
// Usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)
//   default model: load_by_name("digits"); --name picks another preloaded name;
//   --model DIR reads DIR/model.xml and DIR/model.bin and calls load (encoding openvino).
// Prints `IMAGE: L (p), L (p), L (p)` (top 3) per image, or `accuracy N/M` for --heldout.
// Exit codes: 0 done, 1 a wasi-nn call failed, 2 bad usage or a bad/unreadable input file.
import * as nn from "../../../generated/assemblyscript/wasi_ephemeral_nn";
import {
  ExecutionTarget,
  GraphEncoding,
  GraphExecutionContext,
  NnErrno,
  Tensor,
  TensorDimensions,
  TensorType,
} from "../../../generated/assemblyscript/wasi_ephemeral_nn";
import {
  errno,
  errnoToString,
  fd_close,
  fd_prestat_dir_name,
  fd_prestat_get,
  fd_read,
  lookupflags,
  path_open,
  prestat,
  rights,
} from "bindings/wasi_snapshot_preview1";

const SIDE = 8;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;
const DEFAULT_NAME = "digits";
const USAGE = "usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)";

function die(code: i32, message: string): void {
  process.stderr.write("error: " + message + "\n");
  process.exit(code);
}

function checkNn(call: string, e: NnErrno): void {
  if (e != NnErrno.SUCCESS) die(1, "wasi-nn " + call + " failed: " + NnErrno.name(e));
}

// ---- files: preopened directories, as wasi-libc resolves them ---------------------------

class Preopen {
  constructor(public fd: u32, public name: string) {}
}

/** A path without leading `/` and `./` and without trailing `/`; "" for the root or ".". */
function normalize(path: string): string {
  let start = 0;
  let end = path.length;
  for (;;) {
    if (path.startsWith("/", start)) start += 1;
    else if (path.startsWith("./", start)) start += 2;
    else break;
  }
  while (end > start && path.charCodeAt(end - 1) == 0x2f) end--;
  const rest = path.substring(start, end);
  return rest == "." ? "" : rest;
}

function preopens(): Array<Preopen> {
  const found = new Array<Preopen>();
  const prestat = memory.data(8); // tag u8 @0, name length u32 @4
  for (let fd: u32 = 3; fd_prestat_get(fd, changetype<prestat>(prestat)) == errno.SUCCESS; fd++) {
    if (load<u8>(prestat) != 0) continue; // not a directory
    const name = new ArrayBuffer(load<u32>(prestat, 4));
    if (fd_prestat_dir_name(fd, changetype<usize>(name), name.byteLength) != errno.SUCCESS) break;
    found.push(new Preopen(fd, normalize(String.UTF8.decode(name))));
  }
  return found;
}

function describe(e: errno): string {
  switch (e) {
    case errno.NOENT: return "No such file or directory";
    case errno.ACCES: return "Permission denied";
    case errno.ISDIR: return "Is a directory";
    case errno.NOTCAPABLE: return "Capabilities insufficient";
    default: return "WASI errno " + errnoToString(e);
  }
}

/** The whole file at `path`, or null with the reason in `readError`. */
let readError = "";

function readFile(path: string): Uint8Array | null {
  const wanted = normalize(path);
  let dirFd: i64 = -1;
  let rel = "";
  let best = -1;
  const dirs = preopens();
  for (let i = 0; i < dirs.length; i++) {
    const name = dirs[i].name;
    const inside = name.length == 0 || wanted == name || wanted.startsWith(name + "/");
    if (inside && name.length > best) {
      best = name.length;
      dirFd = dirs[i].fd;
      rel = name.length == 0 ? wanted : wanted.substring(name.length + 1);
    }
  }
  if (dirFd < 0) {
    readError = "not inside a preopened directory";
    return null;
  }
  if (rel.length == 0) rel = ".";
  const relBytes = String.UTF8.encode(rel);
  const fdOut = memory.data(4);
  let err = path_open(<u32>dirFd, lookupflags.SYMLINK_FOLLOW, changetype<usize>(relBytes),
    relBytes.byteLength, 0, rights.FD_READ, 0, 0, fdOut);
  if (err != errno.SUCCESS) {
    readError = describe(err);
    return null;
  }
  const fd = load<u32>(fdOut);
  let data = new Uint8Array(4096);
  let size = 0;
  const iov = memory.data(12); // iovec {buf, len} + nread
  for (;;) {
    if (size == data.length) {
      const bigger = new Uint8Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    store<u32>(iov, <u32>(data.dataStart + size));
    store<u32>(iov, <u32>(data.length - size), 4);
    err = fd_read(fd, iov, 1, iov + 8);
    if (err != errno.SUCCESS) break;
    const n = load<u32>(iov, 8);
    if (n == 0) break;
    size += n;
  }
  fd_close(fd);
  if (err != errno.SUCCESS) {
    readError = describe(err);
    return null;
  }
  return data.subarray(0, size);
}

function readOrDie(path: string): Uint8Array {
  const data = readFile(path);
  if (data == null) {
    die(2, path + ": cannot read: " + readError);
    return new Uint8Array(0);
  }
  return data;
}

function baseName(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

// ---- PGM ----------------------------------------------------------------------------------

function isSpace(c: u8): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d); // space, \t \n \v \f \r
}

let pos = 0;

/** The next header number after whitespace and `#` comments; -1 when there is none. */
function pgmNumber(data: Uint8Array): i64 {
  while (pos < data.length) {
    if (isSpace(data[pos])) {
      pos++;
    } else if (data[pos] == 0x23) { // '#'
      while (pos < data.length && data[pos] != 0x0a && data[pos] != 0x0d) pos++;
    } else {
      break;
    }
  }
  const start = pos;
  let value: i64 = 0;
  while (pos < data.length && data[pos] >= 0x30 && data[pos] <= 0x39) {
    value = value * 10 + <i64>(data[pos] - 0x30);
    if (value > 0xFFFFFFFF) return -1;
    pos++;
  }
  return pos == start ? -1 : value;
}

/** Fills `pixels` from a binary PGM (P5) of 8x8 pixels, scaled to 0..16; "" or a message. */
function parsePgm(data: Uint8Array, pixels: Float32Array): string {
  if (data.length < 2 || data[0] != 0x50 || data[1] != 0x35) {
    return "not a binary PGM (no P5 magic number)";
  }
  pos = 2;
  const what = ["width", "height", "maxval"];
  const fields = new Array<i64>(3);
  for (let i = 0; i < 3; i++) {
    fields[i] = pgmNumber(data);
    if (fields[i] < 0) return "bad PGM header: no " + what[i];
  }
  const width = fields[0];
  const height = fields[1];
  const maxval = fields[2];
  if (width != SIDE || height != SIDE) {
    return "image is " + width.toString() + "x" + height.toString() + ", expected " +
      SIDE.toString() + "x" + SIDE.toString();
  }
  if (maxval < 1 || maxval > 255) return "maxval " + maxval.toString() + " is not in 1..255";
  if (pos >= data.length || !isSpace(data[pos])) return "bad PGM header: no whitespace after maxval";
  pos++;
  if (data.length - pos < PIXELS) {
    return "truncated: " + (data.length - pos).toString() + " pixel bytes, expected " +
      PIXELS.toString();
  }
  for (let i = 0; i < PIXELS; i++) {
    const p = data[pos + i];
    if (<i64>p > maxval) {
      return "pixel value " + p.toString() + " exceeds maxval " + maxval.toString();
    }
    pixels[i] = <f32>(<i32>p * 16) / <f32>maxval;
  }
  return "";
}

// ---- wasi-nn ------------------------------------------------------------------------------

const dims: TensorDimensions = [1, PIXELS];
const input = new Float32Array(PIXELS);
const output = new Float32Array(CLASSES);

/** Preloaded by the host (`--nn-graph openvino::.../NAME`), or read from `modelDir`. */
function openModel(modelDir: string | null, name: string): GraphExecutionContext {
  let graph: u32 = 0;
  if (modelDir == null) {
    const r = nn.loadByName(name);
    checkNn("load_by_name", r.error);
    graph = r.value;
  } else {
    const xml = readOrDie(modelDir + "/model.xml");
    const weights = readOrDie(modelDir + "/model.bin");
    const r = nn.load([xml, weights], GraphEncoding.OPENVINO, ExecutionTarget.CPU);
    checkNn("load", r.error);
    graph = r.value;
  }
  const ctx = nn.initExecutionContext(graph);
  checkNn("init_execution_context", ctx.error);
  return ctx.value;
}

/** Runs `input` through the model into `output`. */
function classify(ctx: GraphExecutionContext): void {
  const tensor = new Tensor(); // @unmanaged: freed below
  tensor.setDimensions(dims);
  tensor.type = TensorType.F32;
  tensor.setData(input); // the f32 bytes as they are: wasm32 is little-endian
  const set = nn.setInput(ctx, 0, tensor);
  heap.free(changetype<usize>(tensor));
  checkNn("set_input", set);
  checkNn("compute", nn.compute(ctx));
  const r = nn.getOutput(ctx, 0, output.dataStart, <u32>output.byteLength);
  checkNn("get_output", r.error);
  if (r.value != <u32>output.byteLength) {
    die(1, "output 0 is " + r.value.toString() + " bytes, expected " +
      output.byteLength.toString());
  }
}

/** Class indices by descending score; equal scores keep the lower class first. */
function ranking(): Array<i32> {
  const order = new Array<i32>(CLASSES);
  for (let i = 0; i < CLASSES; i++) order[i] = i;
  for (let i = 1; i < CLASSES; i++) {
    for (let j = i; j > 0 && output[order[j]] > output[order[j - 1]]; j--) {
      const t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  }
  return order;
}

/** `x` with 3 decimals, rounded like C's printf("%.3f") (half to even). */
function fixed3(x: f32): string {
  let v = <f64>x * 1000;
  const negative = v < 0;
  if (negative) v = -v;
  let r = Math.floor(v);
  const frac = v - r;
  if (frac > 0.5 || (frac == 0.5 && r % 2 == 1)) r += 1;
  const n = <i64>r;
  const fraction = (n % 1000).toString();
  return (negative && n != 0 ? "-" : "") + (n / 1000).toString() + "." +
    "000".substring(fraction.length) + fraction;
}

function heldout(ctx: GraphExecutionContext, path: string): void {
  const data = readOrDie(path);
  if (data.length < 4) die(2, path + ": too short for a heldout file");
  const count = <i64>(<u32>data[0] | <u32>data[1] << 8 | <u32>data[2] << 16 | <u32>data[3] << 24);
  if (<i64>data.length - 4 != count * (PIXELS + 1)) {
    die(2, path + ": " + count.toString() + " records need " +
      (count * (PIXELS + 1)).toString() + " bytes after the count, found " +
      (data.length - 4).toString());
  }
  let correct = 0;
  for (let r = 0; r < <i32>count; r++) {
    const record = 4 + r * (PIXELS + 1);
    for (let i = 0; i < PIXELS; i++) input[i] = <f32>data[record + i];
    classify(ctx);
    if (ranking()[0] == <i32>data[record + PIXELS]) correct++;
  }
  console.log("accuracy " + correct.toString() + "/" + count.toString());
}

function images(ctx: GraphExecutionContext, paths: Array<string>): i32 {
  let status = 0;
  for (let k = 0; k < paths.length; k++) {
    const path = paths[k];
    const data = readFile(path);
    if (data == null) {
      process.stderr.write("error: " + path + ": cannot read: " + readError + "\n");
      status = 2;
      continue;
    }
    const bad = parsePgm(data, input);
    if (bad.length > 0) {
      process.stderr.write("error: " + path + ": " + bad + "\n");
      status = 2;
      continue;
    }
    classify(ctx);
    const order = ranking();
    let line = baseName(path) + ": ";
    for (let i = 0; i < 3; i++) {
      line += (i > 0 ? ", " : "") + order[i].toString() + " (" + fixed3(output[order[i]]) + ")";
    }
    console.log(line);
  }
  return status;
}

function main(): void {
  const argv = process.argv;
  let modelDir: string | null = null;
  let name = DEFAULT_NAME;
  let heldoutFile: string | null = null;
  const paths = new Array<string>();
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg == "--model" || arg == "--name" || arg == "--heldout") {
      if (i + 1 >= argv.length) die(2, arg + " needs a value\n" + USAGE);
      const value = argv[++i];
      if (arg == "--model") modelDir = value;
      else if (arg == "--name") name = value;
      else heldoutFile = value;
    } else if (arg.startsWith("--")) {
      die(2, "unknown option " + arg + "\n" + USAGE);
    } else {
      paths.push(arg);
    }
  }
  if (heldoutFile == null && paths.length == 0) die(2, "no images given\n" + USAGE);
  if (heldoutFile != null && paths.length > 0) die(2, "--heldout takes no images\n" + USAGE);
  const ctx = openModel(modelDir, name);
  if (heldoutFile != null) {
    heldout(ctx, heldoutFile);
  } else {
    const status = images(ctx, paths);
    if (status != 0) process.exit(status);
  }
}

main();
