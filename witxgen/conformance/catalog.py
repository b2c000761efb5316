"""The conformance case catalog, as data: every case of ../shared/conformance-cases.md
(sections A–G, the multi-part rows split into one case per part, and the slow H cases),
plus cases for the guest without memory, interleaved graphs and the operator family.

Arguments are symbolic (see `model`); `source` says where each expectation comes from:
"catalog #N" is the row of the conformance catalog, "witx" a doc comment of the wasi-nn
text, "DESIGN §5" witxgen's runtime policy where the spec is silent.
"""

from __future__ import annotations

from typing import Any

from .fixtures import MOBILENET_CLASS, OPS, TENSOR_TYPES, op_expected, op_inputs, pack
from .model import (
    BAD_HANDLE,
    OOB,
    WRAP,
    Beyond,
    Blob,
    Case,
    Compute,
    DistinctHandles,
    FillPattern,
    GetOutput,
    InitContext,
    Load,
    LoadByName,
    Model,
    Overwrite,
    Region,
    SameBytes,
    SetInput,
    Step,
    Tensor,
    Top1,
    ir_files,
    near_end,
)

F32_IN = pack("f32", [1, 2, 3, 4])
F32_OUT = pack("f32", [2, 3, 4, 5])
SIZES = {"f16": 2, "f32": 4, "f64": 8, "u8": 1, "i32": 4, "i64": 8}

W_TENSOR = "witx tensor.data: 'the length must be exactly the product of all dimensions " \
           "multiplied by the element size of $type, otherwise the call fails with " \
           "invalid_argument'"
W_SET = "witx set_input: 'its shape, element type and data size must suit that input'; " \
        "result: 'invalid_argument for a bad index or tensor'"
W_ERRNO1 = "witx nn_errno.invalid_argument: 'an unknown graph or context handle, an input or " \
           "output index out of range, a tensor whose shape, element type or data size is " \
           "wrong, or a pointer outside the guest's memory'"
W_OOB = W_ERRNO1 + "; a trap is acceptable where the call cannot report (DESIGN §5)"


def load(fixture: str = "add1", graph: str = "G", **kw: Any) -> Load:
    return Load(builders=ir_files(fixture), graph=graph, **kw)


def tensor(values: list[float] | None = None, t: str = "f32", dims: tuple[int, ...] = (1, 4),
           **kw: Any) -> Tensor:
    data = pack(t, values if values is not None else [1, 2, 3, 4])
    return Tensor(dims=dims, type=t, data=data, **kw)


def set_input(ctx: str | int = "X", values: list[float] | None = None, t: str = "f32",
              index: int = 0, **kw: Any) -> SetInput:
    return SetInput(ctx=ctx, index=index, tensor=tensor(values, t), **kw)


def get_output(ctx: str | int = "X", values: list[float] | None = None, t: str = "f32",
               index: int = 0, **kw: Any) -> GetOutput:
    data = pack(t, values if values is not None else [2, 3, 4, 5])
    return GetOutput(ctx=ctx, index=index, size=len(data), data=data,
                     written=len(data), **kw)


def ready(fixture: str = "add1", graph: str = "G", ctx: str = "X") -> tuple[Step, ...]:
    return (load(fixture, graph), InitContext(graph=graph, ctx=ctx))


def infer(ctx: str = "X", values_in: list[float] | None = None,
          values_out: list[float] | None = None) -> tuple[Step, ...]:
    return (set_input(ctx, values_in), Compute(ctx=ctx), get_output(ctx, values_out))


CASES: list[Case] = []


def case(id: str, section: str, title: str, spec: str, source: str, steps: tuple[Step, ...],
         **kw: Any) -> None:
    CASES.append(Case(id=id, section=section, title=title, spec=spec, source=source,
                      steps=steps, **kw))


# --- A. linking and ABI ----------------------------------------------------------------------
A = "A. Linking and ABI"
case("abi.link", A, "imports every function with its exact core signature, calls none",
     "instantiates, exit 0", "catalog #1", (), import_all=True)
case("abi.errno-range", A,
     "load twice, init, a mismatched set_input: every result is a defined errno",
     "∈{*} each", "catalog #2",
     (load(expect="∈{*}"), load(graph="G2", expect="∈{*}"),
      InitContext(expect="∈{*}"), set_input(t="i32", expect="∈{*}")))
case("abi.tensor-padding", A, "set_input with the tensor record's padding bytes set to 0xFF",
     "=success (padding ignored)", "catalog #3; layout: padding is not part of any field",
     (*ready(), SetInput(tensor=tensor(padding=0xFF)), Compute(), get_output()))

# --- B. load ---------------------------------------------------------------------------------
B = "B. load"
case("load.ok", B, "load([xml, bin], openvino, cpu), then a full inference",
     "=success; a graph handle is written", "catalog #4; witx load",
     (*ready(), *infer()))
case("load.handles-distinct", B, "load add1 twice", "=success twice; G1 ≠ G2", "catalog #5",
     (load(), load(graph="G2"), DistinctHandles(a="G", b="G2")))
case("load.target-gpu", B, "target gpu", "∈{success,runtime_error,unsupported_operation}",
     "catalog #6 (success only with a GPU)",
     (load(target="gpu", expect="∈{success,runtime_error,unsupported_operation}"),))
case("load.gpu-infer", B, "target gpu, then a full inference", "=success; output correct",
     "catalog #6 on a runtime with a GPU", (load(target="gpu"), InitContext(), *infer()),
     requires=("gpu",))
case("load.target-tpu", B, "target tpu", "∈{invalid_argument,unsupported_operation}",
     "catalog #7; witx nn_errno.unsupported_operation: 'an execution target it has no way "
     "to serve'",
     (load(target="tpu", expect="∈{invalid_argument,unsupported_operation}"),))
case("load.target-invalid.next", B, "target = the first value past the last case",
     "TRAP|=invalid_argument", "catalog #8; DESIGN §5 (enum tag out of range)",
     (load(target=Beyond(0), expect="TRAP|=invalid_argument"),))
case("load.target-invalid.255", B, "target = 255", "TRAP|=invalid_argument", "catalog #8",
     (load(target=255, expect="TRAP|=invalid_argument"),))
case("load.enc-onnx-missing", B, "encoding onnx with OpenVINO IR bytes, where ONNX is absent",
     "=invalid_encoding", "catalog #9; witx nn_errno.invalid_encoding",
     (load(encoding="onnx", expect="=invalid_encoding"),), requires=("!onnx",))
case("load.enc-onnx", B, "an ONNX add1 model, then a full inference", "=success",
     "witx graph_encoding.onnx: 'ONNX model (one buffer)'",
     (Load(builders=(Model("add1_onnx", "model.onnx"),), encoding="onnx"), InitContext(),
      *infer()), requires=("onnx",))
case("load.enc-tensorflow", B, "encoding tensorflow", "=invalid_encoding",
     "catalog #10; witx nn_errno.invalid_encoding: 'not supported by this host'",
     (load(encoding="tensorflow", expect="=invalid_encoding"),), requires=("!tensorflow",))
case("load.enc-pytorch", B, "encoding pytorch with junk bytes",
     "∈{invalid_encoding,invalid_argument,runtime_error}", "catalog #11",
     (Load(builders=(Blob(b"not a pytorch model"),), encoding="pytorch",
           expect="∈{invalid_encoding,invalid_argument,runtime_error}"),))
case("load.enc-tflite", B, "encoding tensorflowlite with junk bytes",
     "∈{invalid_encoding,invalid_argument,runtime_error}", "catalog #12",
     (Load(builders=(Blob(b"not a tflite model"),), encoding="tensorflowlite",
           expect="∈{invalid_encoding,invalid_argument,runtime_error}"),))
case("load.enc-autodetect", B, "encoding autodetect with OpenVINO IR bytes",
     "∈{success,invalid_encoding}", "catalog #13 (impl-defined)",
     (load(encoding="autodetect", expect="∈{success,invalid_encoding}"),))
case("load.enc-invalid.next", B, "encoding = the first value past the last case",
     "TRAP|∈{invalid_argument,invalid_encoding}",
     "catalog #14 (TRAP|=invalid_encoding); DESIGN §5 (enum tag out of range: invalid_argument)",
     (load(encoding=Beyond(0), expect="TRAP|∈{invalid_argument,invalid_encoding}"),))
case("load.enc-invalid.200", B, "encoding = 200", "TRAP|∈{invalid_argument,invalid_encoding}",
     "catalog #14; DESIGN §5",
     (load(encoding=200, expect="TRAP|∈{invalid_argument,invalid_encoding}"),))
case("load.builders-0", B, "empty builder array, openvino", "=invalid_argument",
     "catalog #15; witx graph_builder_array: 'OpenVINO IR takes two'",
     (Load(builders=(), expect="=invalid_argument"),))
case("load.builders-1", B, "[xml] only", "=invalid_argument", "catalog #16",
     (Load(builders=(Model("add1", "model.xml"),), expect="=invalid_argument"),))
case("load.builders-3", B, "[xml, bin, bin]", "=invalid_argument", "catalog #17",
     (Load(builders=(*ir_files("add1"), Model("add1", "model.bin")),
           expect="=invalid_argument"),))
case("load.corrupt.truncated", B, "[truncated xml, bin]", "∈{invalid_argument,runtime_error}",
     "catalog #18; witx nn_errno.runtime_error: 'could not accept the model bytes'",
     (load("bad", expect="∈{invalid_argument,runtime_error}"),))
case("load.corrupt.swapped", B, "[bin, xml]", "∈{invalid_argument,runtime_error}",
     "catalog #18",
     (Load(builders=(Model("add1", "model.bin"), Model("add1", "model.xml")),
           expect="∈{invalid_argument,runtime_error}"),))
case("load.builder-array-oob", B, "builder array pointer OOB, length 2",
     "TRAP|=invalid_argument", "catalog #19; " + W_OOB,
     (load(array_ptr=OOB, expect="TRAP|=invalid_argument"),))
case("load.builder-array-oob-empty", B, "builder array of length 0 at an OOB pointer",
     "=invalid_argument", "catalog #20 (a count error: OpenVINO takes two builders)",
     (Load(builders=(), array_ptr=OOB, expect="=invalid_argument"),))
case("load.builder-entry-oob", B, "valid array; entry 1 points past memory",
     "TRAP|=invalid_argument", "catalog #20; " + W_OOB,
     (Load(builders=(Model("add1", "model.xml"), Region(OOB, 4)),
           expect="TRAP|=invalid_argument"),))
case("load.builder-entry-wrap", B, "entry 1 at 2**32-16 with length 32 (pointer + length wraps)",
     "TRAP|=invalid_argument", W_OOB,
     (Load(builders=(Model("add1", "model.xml"), Region(WRAP, 32)),
           expect="TRAP|=invalid_argument"),))
case("load.graph-out-oob", B, "graph result pointer OOB", "TRAP|=invalid_argument",
     "catalog #20; DESIGN §5 (the result pointer cannot take the error)",
     (load(out=OOB, expect="TRAP|=invalid_argument"),))

# --- C. load_by_name -------------------------------------------------------------------------
C = "C. load_by_name"
NAMED = {"graphs": ("add1",)}
case("lbn.ok", C, "load_by_name(\"add1\"), then a full inference", "=success; output correct",
     "catalog #21; witx load_by_name",
     (LoadByName(name=b"add1"), InitContext(), *infer()), **NAMED)
case("lbn.unknown", C, "load_by_name(\"nope\")", "=not_found",
     "catalog #22; witx load_by_name: 'not_found if the host has no model by that name'",
     (LoadByName(name=b"nope", expect="=not_found"),), **NAMED)
case("lbn.empty", C, "load_by_name(\"\")", "=not_found", "catalog #23",
     (LoadByName(name=b"", expect="=not_found"),), **NAMED)
case("lbn.case", C, "load_by_name(\"ADD1\")", "=not_found", "catalog #24 (names are exact)",
     (LoadByName(name=b"ADD1", expect="=not_found"),), **NAMED)
case("lbn.twice", C, "load_by_name(\"add1\") twice; inference on both handles",
     "=success twice, both usable", "catalog #25 (handle equality impl-defined)",
     (LoadByName(name=b"add1"), LoadByName(name=b"add1", graph="G2"),
      InitContext(), InitContext(graph="G2", ctx="X2"), *infer(), *infer("X2")), **NAMED)
case("lbn.bad-utf8", C, "name bytes FF FE", "TRAP|∈{invalid_argument,not_found}",
     "catalog #26; witx load_by_name takes a string (UTF-8)",
     (LoadByName(name=b"\xff\xfe", expect="TRAP|∈{invalid_argument,not_found}"),), **NAMED)
case("lbn.name-oob", C, "name pointer OOB", "TRAP|∈{invalid_argument,not_found}",
     "catalog #26; " + W_OOB,
     (LoadByName(name=b"add1", name_ptr=OOB, expect="TRAP|∈{invalid_argument,not_found}"),),
     **NAMED)
case("lbn.graph-out-oob", C, "graph result pointer OOB", "TRAP|=invalid_argument",
     "DESIGN §5 (the result pointer cannot take the error)",
     (LoadByName(name=b"add1", out=OOB, expect="TRAP|=invalid_argument"),), **NAMED)

# --- D. init_execution_context ---------------------------------------------------------------
D = "D. init_execution_context"
case("iec.ok", D, "load, then init", "=success", "catalog #27", ready())
case("iec.unknown-graph", D, "init(BAD)", "=invalid_argument", "catalog #28; " + W_ERRNO1,
     (InitContext(graph=BAD_HANDLE, expect="=invalid_argument"),))
case("iec.two-contexts", D, "two contexts on one graph, interleaved, different inputs",
     "each output follows its own input",
     "catalog #29; witx init_execution_context: 'each context keeps its own inputs and outputs'",
     (*ready(), InitContext(ctx="X2"), set_input("X", [1, 2, 3, 4]),
      set_input("X2", [10, 20, 30, 40]), Compute(ctx="X2"), Compute(ctx="X"),
      get_output("X", [2, 3, 4, 5]), get_output("X2", [11, 21, 31, 41])))
case("iec.ctx-out-oob", D, "context result pointer OOB", "TRAP|=invalid_argument",
     "catalog #30; DESIGN §5", (load(), InitContext(out=OOB, expect="TRAP|=invalid_argument")))

# --- E. set_input ----------------------------------------------------------------------------
E = "E. set_input"
case("si.ok", E, "f32[1,4] = {1,2,3,4}", "=success", "catalog #31", (*ready(), set_input()))
case("si.unknown-ctx", E, "set_input(BAD, …)", "=invalid_argument", "catalog #32; " + W_ERRNO1,
     (set_input(BAD_HANDLE, expect="=invalid_argument"),))
case("si.index-oob.1", E, "index 1 on the single-input add1", "=invalid_argument",
     "catalog #33; " + W_SET, (*ready(), set_input(index=1, expect="=invalid_argument")))
case("si.index-oob.max", E, "index 0xFFFFFFFF", "=invalid_argument", "catalog #33",
     (*ready(), set_input(index=0xFFFFFFFF, expect="=invalid_argument")))
case("si.data-short", E, "dims [1,4] f32 with 15 data bytes", "=invalid_argument",
     "catalog #34a; " + W_TENSOR,
     (*ready(), SetInput(tensor=Tensor(dims=(1, 4), type="f32", data=F32_IN[:15]),
                         expect="=invalid_argument")))
case("si.data-long", E, "dims [1,4] f32 with 17 data bytes", "=invalid_argument",
     "catalog #34b; " + W_TENSOR,
     (*ready(), SetInput(tensor=Tensor(dims=(1, 4), type="f32", data=F32_IN + b"\0"),
                         expect="=invalid_argument")))
for t in TENSOR_TYPES:
    case(f"si.type.{t}", E, f"a {t}[1,4] tensor into add1_{t}, compute, check the output",
         "=success; output = input + 1", "catalog #35 (checks the enum numbering)",
         (*ready(f"add1_{t}"), set_input(t=t), Compute(), get_output(t=t)))
case("si.type-mismatch", E, "i32[1,4] (16 bytes) into the f32 add1",
     "=invalid_argument at set_input or compute", "catalog #36; " + W_SET,
     (*ready(), set_input(t="i32", expect="∈{success,invalid_argument}",
                          pass_if=("invalid_argument",)),
      Compute(expect="=invalid_argument")))
for name, dims in (("4x1", (4, 1)), ("2x2", (2, 2))):
    case(f"si.dims-mismatch.{name}", E, f"dims {list(dims)} with 16 bytes into [1,4]",
         "=invalid_argument at set_input or compute", "catalog #37; " + W_SET,
         (*ready(), SetInput(tensor=Tensor(dims=dims, type="f32", data=F32_IN),
                             expect="∈{success,invalid_argument}", pass_if=("invalid_argument",)),
          Compute(expect="=invalid_argument")))
case("si.rank.1", E, "dims [4] (rank 1) with 16 bytes", "=invalid_argument",
     "catalog #38; " + W_SET,
     (*ready(), SetInput(tensor=Tensor(dims=(4,), type="f32", data=F32_IN),
                         expect="=invalid_argument")))
case("si.rank.0", E, "dims [] (rank 0) with 4 bytes", "=invalid_argument",
     "catalog #38; DESIGN §5",
     (*ready(), SetInput(tensor=Tensor(dims=(), type="f32", data=F32_IN[:4]),
                         expect="=invalid_argument")))
case("si.zero-dim", E, "dims [0,4] with 0 data bytes", "=invalid_argument",
     "catalog #39; DESIGN §5",
     (*ready(), SetInput(tensor=Tensor(dims=(0, 4), type="f32", data=b""),
                         expect="=invalid_argument")))
case("si.dims-overflow", E, "dims [65536,65536,65536,65536] f32 with 16 bytes",
     "=invalid_argument (and no crash)", "catalog #40; " + W_TENSOR,
     (*ready(), SetInput(tensor=Tensor(dims=(65536,) * 4, type="f32", data=F32_IN),
                         expect="=invalid_argument")))
case("si.type-invalid.next", E, "tensor type = the first value past the last case",
     "TRAP|=invalid_argument", "catalog #41; DESIGN §5",
     (*ready(), SetInput(tensor=Tensor(dims=(1, 4), type=Beyond(0), data=F32_IN),
                         expect="TRAP|=invalid_argument")))
case("si.type-invalid.200", E, "tensor type byte = 200", "TRAP|=invalid_argument", "catalog #41",
     (*ready(), SetInput(tensor=Tensor(dims=(1, 4), type=200, data=F32_IN),
                         expect="TRAP|=invalid_argument")))
case("si.record-oob", E, "tensor record pointer OOB", "TRAP|=invalid_argument",
     "catalog #42; " + W_OOB,
     (*ready(), set_input(record_ptr=OOB, expect="TRAP|=invalid_argument")))
case("si.dims-oob", E, "valid record, dims pointer OOB", "TRAP|=invalid_argument",
     "catalog #43; " + W_OOB,
     (*ready(), SetInput(tensor=tensor(dims_ptr=OOB), expect="TRAP|=invalid_argument")))
case("si.data-oob", E, "valid record, data pointer OOB", "TRAP|=invalid_argument",
     "catalog #43; " + W_OOB,
     (*ready(), SetInput(tensor=tensor(data_ptr=OOB), expect="TRAP|=invalid_argument")))
case("si.data-wrap", E, "data at 2**32-16 with length 16+16 (pointer + length wraps)",
     "TRAP|=invalid_argument", W_OOB,
     (*ready(), SetInput(tensor=tensor(data_ptr=WRAP, data_len=32),
                         expect="TRAP|=invalid_argument")))
case("si.by-value", E, "set_input, then overwrite the data buffer with zeros, then compute",
     "output = f(original input)",
     "catalog #44; witx set_input: 'the host copies the tensor during the call'",
     (*ready(), SetInput(tensor=tensor(label="in")), Overwrite(label="in"), Compute(),
      get_output()))
case("si.overwrite", E, "set {1,2,3,4}, set {5,6,7,8}, compute", "output = f({5,6,7,8})",
     "catalog #45", (*ready(), set_input(), set_input(values=[5, 6, 7, 8]), Compute(),
                     get_output(values=[6, 7, 8, 9])))

# --- F. compute ------------------------------------------------------------------------------
F = "F. compute"
case("c.ok", F, "set, compute, get", "=success; output {2,3,4,5}", "catalog #46",
     (*ready(), *infer()))
case("c.unknown-ctx", F, "compute(BAD)", "=invalid_argument", "catalog #47; " + W_ERRNO1,
     (Compute(ctx=BAD_HANDLE, expect="=invalid_argument"),))
case("c.no-input", F, "compute right after init", "∈{invalid_argument,runtime_error}",
     "catalog #48; witx compute: 'every input the model has must have been set first'",
     (*ready(), Compute(expect="∈{invalid_argument,runtime_error}")))
case("c.partial-input", F, "two_io: only input 0 set, then compute",
     "∈{invalid_argument,runtime_error}", "catalog #49; witx compute",
     (*ready("two_io"), set_input(), Compute(expect="∈{invalid_argument,runtime_error}")))
case("c.repeat", F, "compute twice; set a new input; compute again",
     "=success each; the output follows the latest input", "catalog #50",
     (*ready(), set_input(), Compute(), Compute(), get_output(),
      set_input(values=[7, 8, 9, 10]), Compute(), get_output(values=[8, 9, 10, 11])))

# --- G. get_output ---------------------------------------------------------------------------
G = "G. get_output"
case("go.exact", G, "a 16-byte buffer", "=success; 16 bytes written, data correct",
     "catalog #51", (*ready(), set_input(), Compute(), get_output()))
case("go.larger", G, "a 64-byte buffer filled with 0xAA",
     "=success; 16 written; bytes 16..63 still 0xAA", "catalog #52",
     (*ready(), set_input(), Compute(),
      GetOutput(size=64, data=F32_OUT, written=16, untouched=True)))
case("go.too-small.15", G, "a 15-byte buffer filled with 0xAA", "=too_large; buffer unchanged",
     "catalog #53; witx get_output: 'if the buffer is too small the call fails with too_large "
     "and writes nothing'",
     (*ready(), set_input(), Compute(), GetOutput(size=15, expect="=too_large", untouched=True)))
case("go.too-small.0", G, "max size 0", "=too_large; buffer unchanged", "catalog #53",
     (*ready(), set_input(), Compute(),
      GetOutput(size=16, max_len=0, expect="=too_large", untouched=True)))
case("go.index-oob", G, "index 1 on add1", "=invalid_argument", "catalog #54; " + W_ERRNO1,
     (*ready(), set_input(), Compute(), get_output(index=1, expect="=invalid_argument")))
case("go.before-compute", G, "get_output right after set_input",
     "∈{invalid_argument,runtime_error}", "catalog #55; witx get_output: 'output of the last "
     "compute' (there is none)",
     (*ready(), set_input(), get_output(expect="∈{invalid_argument,runtime_error}")))
case("go.unknown-ctx", G, "get_output(BAD, …)", "=invalid_argument", "catalog #56",
     (get_output(BAD_HANDLE, expect="=invalid_argument"),))
case("go.multi-output", G, "two_io: get index 0 (sum) and 1 (product)",
     "=success; sum and product correct", "catalog #57",
     (*ready("two_io"), set_input(values=[1, 2, 3, 4]), set_input(values=[1, 2, 3, 4], index=1),
      Compute(), get_output(values=[2, 4, 6, 8]), get_output(values=[1, 4, 9, 16], index=1)))
case("go.repeat", G, "get index 0 twice", "identical bytes", "catalog #58",
     (*ready(), set_input(), Compute(), get_output(label="first"), get_output(label="second"),
      SameBytes(a="first", b="second", length=16)))
case("go.buffer-oob", G, "buffer starts 8 bytes before the end of memory, max 64",
     "TRAP|=invalid_argument", "catalog #59; " + W_OOB,
     (*ready(), set_input(), Compute(),
      GetOutput(size=64, buffer_ptr=near_end(8), expect="TRAP|=invalid_argument")))
case("go.written-oob", G, "bytes_written pointer OOB", "TRAP|=invalid_argument",
     "catalog #60; DESIGN §5",
     (*ready(), set_input(), Compute(), get_output(written_ptr=OOB,
                                                   expect="TRAP|=invalid_argument")))

# --- errno coverage: a guest without memory --------------------------------------------------
M = "M. missing memory"
W_MEM = "witx nn_errno.missing_memory: 'the calling module does not export the memory the " \
        "host needs'"
for fn, step in (
    ("load", Load(builders=(), expect="=missing_memory")),
    ("load_by_name", LoadByName(name=b"", expect="=missing_memory")),
    ("init_execution_context", InitContext(graph=BAD_HANDLE, expect="=missing_memory")),
    ("set_input", SetInput(ctx=BAD_HANDLE, tensor=Tensor(dims=(), type="f32", data=b""),
                           expect="=missing_memory")),
    ("get_output", GetOutput(ctx=BAD_HANDLE, size=0, expect="=missing_memory")),
):
    case(f"mem.{fn}", M, f"{fn} from a guest that exports no memory", "=missing_memory",
         W_MEM, (step,), memory=False)

# --- several graphs and contexts interleaved --------------------------------------------------
X = "X. Interleaving"
case("mix.graphs-interleaved", X,
     "add1 and two_io loaded; a context on each; calls interleaved",
     "each output follows its own graph and inputs",
     "witx init_execution_context: contexts are independent",
     (load("add1"), load("two_io", graph="G2"), InitContext(), InitContext(graph="G2", ctx="X2"),
      set_input("X2", [1, 2, 3, 4]), set_input("X", [4, 3, 2, 1]),
      set_input("X2", [2, 2, 2, 2], index=1), Compute(ctx="X2"), Compute(ctx="X"),
      get_output("X2", [2, 4, 6, 8], index=1), get_output("X", [5, 4, 3, 2]),
      get_output("X2", [3, 4, 5, 6])))
case("mix.context-after-graph-reuse", X,
     "one graph, a context used, then a second context made and used",
     "=success; both outputs correct", "witx init_execution_context: 'a fresh context'",
     (*ready(), *infer(), InitContext(ctx="X2"), *infer("X2", [0, 0, 0, 0], [1, 1, 1, 1])))

# --- the operator family per tensor type -----------------------------------------------------
OPERATORS = "O. Operators"
for op in OPS:
    for t in TENSOR_TYPES:
        a, b = op_inputs(t)
        out_type, out = op_expected(op, t)
        steps: list[Step] = [*ready(f"op_{op}_{t}"), set_input(values=a, t=t)]
        if op != "argmax":
            steps.append(set_input(values=b, t=t, index=1))
        steps += [Compute(), get_output(values=out, t=out_type)]
        case(f"op.{op}.{t}", OPERATORS, f"{op} on {t}[1,4], checked for exact values",
             "=success; exact output", "the operator matrix MindSpore's Wasm backend published",
             tuple(steps))

# --- H. resource and scale boundaries (slow) ---------------------------------------------------
H = "H. Resources and scale"
case("lc.many-graphs", H, "load add1 16 times", "=success each (no crash)", "catalog #61",
     tuple(load(graph=f"G{i}") for i in range(16)), tags=("slow",))
case("lc.many-contexts", H, "16 contexts on one graph", "=success each (no crash)",
     "catalog #62", (load(), *(InitContext(ctx=f"X{i}") for i in range(16))), tags=("slow",))
MOBILE_IN = Tensor(dims=(1, 3, 224, 224), type="f32", data=bytes(4 * 3 * 224 * 224),
                   label="image")
case("smoke.mobilenet", H,
     "MobileNetV2-shaped model (preloaded): f32[1,3,224,224] in, 1001 scores out",
     f"=success; top-1 = {MOBILENET_CLASS}",
     "catalog #63 (synthetic weights: the classifier bias fixes the answer)",
     (LoadByName(name=b"mobilenet"), InitContext(), FillPattern(label="image"),
      SetInput(tensor=MOBILE_IN), Compute(),
      GetOutput(size=4004, written=4004, label="scores"),
      Top1(label="scores", count=1001, index=MOBILENET_CLASS)),
     graphs=("mobilenet",), tags=("slow",))
