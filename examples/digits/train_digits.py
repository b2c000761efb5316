"""Train the demo's digit classifier and export it for wasi-nn (OpenVINO IR and ONNX).

The data set is scikit-learn's bundled 8x8 handwritten digits (1797 images, pixel values 0..16;
nothing is downloaded). The network is a small MLP, 64 -> 32 (ReLU) -> 10 (softmax), trained in
float32 by scikit-learn's MLPClassifier with fixed seeds on a fixed stratified 80/20 split.

The trained weights are written, unchanged, as

* ``model/model.xml`` + ``model/model.bin``: OpenVINO IR built with OpenVINO's opset API
  (f32 weights, no fp16 compression);
* ``model/model.onnx``: ONNX (opset 13) built with the ``onnx`` package's helper API;

and both files are then run through native OpenVINO (f32 inference precision) on the held-out
images: their top-1 predictions must equal the trained model's, or the script fails.

It also writes the held-out set for the demo guests:

* ``data/heldout.bin``: u32 little-endian count N, then N records of 65 bytes: 64 u8 pixels
  (row-major, values 0..16) followed by one u8 label (0..9);
* ``images/digit-<label>-<i>.pgm``: the first held-out image of each class (``i`` is its index
  in heldout.bin) as binary PGM (P5, 8x8, maxval 16).

Every output is deterministic: a second run on the same machine and library versions writes
byte-identical files (``--check`` rebuilds in a temporary folder and compares with what is on disk
instead of writing). Training needs scikit-learn and onnx (``pip install "scikit-learn>=1.3"
"onnx>=1.14"``); using the exported files needs only OpenVINO.

Usage: python examples/digits/train_digits.py [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0
HIDDEN = 32
N_CLASSES = 10
N_PIXELS = 64
MAX_PIXEL = 16
OUTPUT_FILES = (
    "model/model.xml",
    "model/model.bin",
    "model/model.onnx",
    "data/heldout.bin",
)


# --- data and training --------------------------------------------------------------------------


def load_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed split: stratified 80/20 with seed 0. Pixels stay 0..16 (as u8; exact in f32)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x.astype(np.uint8)
    y = y.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )
    return x_train, x_test, y_train, y_test


def train(x_train: np.ndarray, y_train: np.ndarray) -> object:
    """A 64-32-10 ReLU MLP trained with Adam, in float32, single-threaded for reproducibility."""
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="adam",
        alpha=1e-3,
        max_iter=1000,
        random_state=SEED,
    )
    with threadpool_limits(limits=1):
        clf.fit(x_train.astype(np.float32), y_train)
    return clf


def weights_of(clf: object) -> dict[str, np.ndarray]:
    w1, w2 = (np.ascontiguousarray(w, dtype=np.float32) for w in clf.coefs_)  # type: ignore[attr-defined]
    b1, b2 = (np.ascontiguousarray(b, dtype=np.float32) for b in clf.intercepts_)  # type: ignore[attr-defined]
    assert w1.shape == (N_PIXELS, HIDDEN) and w2.shape == (HIDDEN, N_CLASSES)
    assert list(clf.classes_) == list(range(N_CLASSES))  # type: ignore[attr-defined]
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


# --- export -------------------------------------------------------------------------------------


def build_openvino(w: dict[str, np.ndarray]):  # -> ov.Model
    """input f32[1,64] -> MatMul+Add -> ReLU -> MatMul+Add -> Softmax -> output f32[1,10]."""
    import openvino as ov
    from openvino import opset13 as ops

    # Every node gets an explicit name: OpenVINO's automatic names carry a process-wide counter.
    x = ops.parameter([1, N_PIXELS], np.float32, name="input")
    x.output(0).get_tensor().set_names({"input"})
    h = ops.matmul(x, ops.constant(w["w1"], name="fc1.weight"), False, False, name="fc1.matmul")
    h = ops.add(h, ops.constant(w["b1"].reshape(1, HIDDEN), name="fc1.bias"), name="fc1")
    h = ops.relu(h, name="relu1")
    h = ops.matmul(h, ops.constant(w["w2"], name="fc2.weight"), False, False, name="fc2.matmul")
    h = ops.add(h, ops.constant(w["b2"].reshape(1, N_CLASSES), name="fc2.bias"), name="fc2")
    p = ops.softmax(h, 1, name="softmax")
    p.output(0).get_tensor().set_names({"output"})
    result = ops.result(p, name="output/sink_port_0")
    return ov.Model([result], [x], "witxgen-digits-mlp")


def build_onnx(w: dict[str, np.ndarray]) -> bytes:
    """The same graph with the onnx helper API, opset 13, IR version 7; returns the bytes."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(w["w1"], "fc1.weight"),
        numpy_helper.from_array(w["b1"], "fc1.bias"),
        numpy_helper.from_array(w["w2"], "fc2.weight"),
        numpy_helper.from_array(w["b2"], "fc2.bias"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "fc1.weight"], ["fc1.mm"], name="fc1.matmul"),
        helper.make_node("Add", ["fc1.mm", "fc1.bias"], ["fc1"], name="fc1"),
        helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
        helper.make_node("MatMul", ["relu1", "fc2.weight"], ["fc2.mm"], name="fc2.matmul"),
        helper.make_node("Add", ["fc2.mm", "fc2.bias"], ["logits"], name="fc2"),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1, name="softmax"),
    ]
    graph = helper.make_graph(
        nodes,
        "witxgen-digits-mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, N_PIXELS])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, N_CLASSES])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        producer_name="witxgen examples/digits/train_digits.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


def write_heldout(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    records = np.concatenate([x.astype(np.uint8), y.astype(np.uint8)[:, None]], axis=1)
    assert records.shape[1] == N_PIXELS + 1
    path.write_bytes(struct.pack("<I", len(x)) + records.tobytes())


def pgm_bytes(pixels: np.ndarray) -> bytes:
    return b"P5\n8 8\n%d\n" % MAX_PIXEL + pixels.astype(np.uint8).tobytes()


def sample_indices(y: np.ndarray) -> list[int]:
    """The first held-out image of each class."""
    return [int(np.flatnonzero(y == label)[0]) for label in range(N_CLASSES)]


# --- native OpenVINO evaluation -----------------------------------------------------------------


def openvino_predict(model_path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities f32[N,10] from native OpenVINO at f32, one [1,64] request per image."""
    import openvino as ov

    compiled = ov.Core().compile_model(str(model_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    out = np.empty((len(x), N_CLASSES), np.float32)
    for i, row in enumerate(x.astype(np.float32)):
        out[i] = request.infer({"input": row.reshape(1, N_PIXELS)})[compiled.output(0)][0]
    return out


# --- main ---------------------------------------------------------------------------------------


def build_all(out: Path) -> dict[str, float]:
    import openvino as ov

    x_train, x_test, y_train, y_test = load_split()
    clf = train(x_train, y_train)
    w = weights_of(clf)
    trained_pred = clf.predict(x_test.astype(np.float32)).astype(np.uint8)  # type: ignore[attr-defined]

    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(parents=True, exist_ok=True)
    ov.save_model(build_openvino(w), str(out / "model/model.xml"), compress_to_fp16=False)
    (out / "model/model.onnx").write_bytes(build_onnx(w))
    write_heldout(out / "data/heldout.bin", x_test, y_test)
    for old in (out / "images").glob("digit-*.pgm"):
        old.unlink()
    for i in sample_indices(y_test):
        (out / f"images/digit-{y_test[i]}-{i}.pgm").write_bytes(pgm_bytes(x_test[i]))

    acc = {"trained (scikit-learn, f32)": float(np.mean(trained_pred == y_test))}
    for name in ("model.xml", "model.onnx"):
        probs = openvino_predict(out / "model" / name, x_test)
        pred = probs.argmax(axis=1).astype(np.uint8)
        mismatches = int(np.sum(pred != trained_pred))
        if mismatches:
            raise SystemExit(f"{name}: {mismatches} predictions differ from the trained model")
        if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-5):
            raise SystemExit(f"{name}: outputs are not probabilities")
        acc[f"OpenVINO on {name} (f32)"] = float(np.mean(pred == y_test))
    print(
        f"train {len(x_train)} images, held-out {len(x_test)} images, MLP 64-{HIDDEN}-10, "
        f"{clf.n_iter_} epochs"
    )  # type: ignore[attr-defined]
    for name, value in acc.items():
        print(
            f"held-out accuracy, {name}: {value:.4f} ({round(value * len(y_test))}/{len(y_test)})"
        )
    return acc


def all_files(root: Path) -> list[str]:
    return [*OUTPUT_FILES, *sorted(str(p.relative_to(root)) for p in root.glob("images/*.pgm"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in a temporary folder and compare byte-for-byte with --out; write nothing",
    )
    args = parser.parse_args(argv)
    if not args.check:
        build_all(args.out)
        for rel in all_files(args.out):
            data = (args.out / rel).read_bytes()
            print(f"{hashlib.sha256(data).hexdigest()[:16]}  {len(data):7d}  {rel}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build_all(Path(tmp))
        fresh, existing = all_files(Path(tmp)), all_files(args.out)
        differ = (
            [r for r in fresh if not filecmp.cmp(Path(tmp) / r, args.out / r, shallow=False)]
            if fresh == existing
            else sorted(set(fresh) ^ set(existing))
        )
    if differ:
        print("not reproducible; differs:", *differ)
        return 1
    print(f"reproducible: {len(fresh)} files byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
