// The Wasm-only route of benchmarks/suite.py: an ONNX model in onnxruntime-web's wasm backend
// (WebAssembly SIMD, multi-threaded build) in Node, timed per iteration like the wasi-nn guest
// (benchmarks/guest/bench.c), with the same input and the same output format.
//
//   node benchmarks/node/ort_bench.mjs --model M.onnx --dims 1,3,224,224 --out-floats 1000
//       [--threads 1] [--iters 10] [--warmup 3] [--range -1,1] [--init-model TINY.onnx]
//
// Threads: onnxruntime-web reads ort.env.wasm.numThreads when its wasm backend initialises
// (the first session). In a browser more than one thread needs crossOriginIsolated; in Node
// (no `self`) that check does not apply: the threaded build runs its pthreads on
// worker_threads with a SharedArrayBuffer memory. The script prints the process's OS thread
// count (/proc/self/status) after the first inference, so a run shows that workers started.
//
// --init-model: a session on that (tiny) model is created first, so that `init_ns` is the
// backend's start-up (fetching and compiling ort's .wasm, starting the worker threads) and
// `load_ns` the model's own session creation.
//
// Output lines (times in ns): init_ns, load_ns, first_ns, iter_ns T..., checksum S,
// argmax K, threads N (numThreads in effect), os_threads N, versions ..., wasm FILE.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';

function parseArgs(argv) {
  const opts = { threads: 1, iters: 10, warmup: 3, range: [-1, 1] };
  for (let i = 2; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    switch (key) {
      case '--model': opts.model = value; break;
      case '--init-model': opts.initModel = value; break;
      case '--dims': opts.dims = value.split(',').map(Number); break;
      case '--out-floats': opts.outFloats = Number(value); break;
      case '--threads': opts.threads = Number(value); break;
      case '--iters': opts.iters = Number(value); break;
      case '--warmup': opts.warmup = Number(value); break;
      case '--range': opts.range = value.split(',').map(Number); break;
      default: throw new Error(`unknown option ${key}`);
    }
  }
  if (!opts.model || !opts.dims || !opts.outFloats) {
    throw new Error('usage: ort_bench.mjs --model M.onnx --dims D0,... --out-floats N ' +
                    '[--threads T] [--iters N] [--warmup N] [--range LO,HI] [--init-model M]');
  }
  return opts;
}

// The guest's input sequence (bench.c fill_input), in f32 arithmetic.
function fillInput(n, lo, hi) {
  const x = new Float32Array(n);
  const f = Math.fround;
  const span = f(f(hi) - f(lo));
  let state = 12345;
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = f((state >>> 8) * f(1 / 16777216));
    x[i] = f(f(lo) + f(span * u));
  }
  return x;
}

function osThreads() {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

const now = () => process.hrtime.bigint();

const opts = parseArgs(process.argv);
ort.env.wasm.numThreads = opts.threads;
ort.env.logLevel = 'error';
const sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

let t0 = now();
if (opts.initModel) await ort.InferenceSession.create(opts.initModel, sessionOptions);
let t1 = now();
const session = await ort.InferenceSession.create(opts.model, sessionOptions);
let t2 = now();
console.log(`init_ns ${t1 - t0}`);
console.log(`load_ns ${t2 - t1}`);

const n = opts.dims.reduce((a, b) => a * b, 1);
const input = new ort.Tensor('float32', fillInput(n, opts.range[0], opts.range[1]), opts.dims);
const feeds = { [session.inputNames[0]]: input };
const outName = session.outputNames[0];
const times = [];
let output = null;
for (let i = -opts.warmup; i < opts.iters; i++) {
  const a = now();
  const result = await session.run(feeds);
  output = Float32Array.from(result[outName].data); // copy out, as get_output does
  const b = now();
  if (i === -opts.warmup) console.log(`first_ns ${b - a}`);
  if (i >= 0) times.push(b - a);
}
if (output.length !== opts.outFloats) throw new Error(`output has ${output.length} floats`);
console.log(`iter_ns ${times.join(' ')}`);
let checksum = 0;
let best = 0;
for (let i = 0; i < output.length; i++) {
  checksum += (i % 7 + 1) * output[i];
  if (output[i] > output[best]) best = i;
}
console.log(`checksum ${checksum}`);
console.log(`argmax ${best}`);
console.log(`threads ${ort.env.wasm.numThreads}`);
console.log(`os_threads ${osThreads()}`);
console.log(`versions onnxruntime-web=${ort.env.versions.web} node=${process.versions.node} ` +
            `v8=${process.versions.v8}`);
await session.release();
process.exit(0); // the wasm backend's worker threads would keep the process alive
