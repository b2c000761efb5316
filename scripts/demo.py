"""Run the digits demo guests that scripts/build_demo.py built, and compare with native OpenVINO.

    python scripts/demo.py [--out DIR]

For each guest in DIR (default build/demo): `witxgen run` on the ten sample images (each
top-1 must be the label in the file's name) and on the held-out set; then the held-out
accuracy of the same model through native OpenVINO from Python (f32, as `witxgen run`
computes by default), and one run that loads the model from files (`--model`, wasi-nn `load`)
instead of by name. Prints a summary; exits 1 when a guest disagrees with native OpenVINO,
misclassifies a sample, or fails, and 0 otherwise (also when no guest was built).
"""

from __future__ import annotations

import argparse
import re
import shlex
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_demo  # noqa: E402  (scripts/ is not a package)

REPO = build_demo.REPO
EXAMPLE = build_demo.EXAMPLE
IMAGES = sorted((EXAMPLE / "images").glob("digit-*.pgm"))
HELDOUT = EXAMPLE / "data" / "heldout.bin"
LINE = re.compile(r"^digit-(\d)-\d+\.pgm: (\d) \(\d\.\d{3}\), \d \(\d\.\d{3}\), \d \(\d\.\d{3}\)$")
ACCURACY = re.compile(r"^accuracy (\d+)/(\d+)$")


def rel(path: Path) -> str:
    return build_demo.display(path)


def witxgen() -> list[str]:
    script = Path(sys.executable).parent / "witxgen"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "witxgen"]


def run(models: Path | None, wasm: Path, args: list[str],
        shown: str | None = None) -> tuple[int, str, str, float]:
    """`witxgen run` the guest with examples/digits preopened and `models` registered by
    name; prints the command line (`shown` stands in for `args` there)."""
    options = ["--nn-graph", f"openvino::{rel(models)}"] if models is not None else []
    options += ["--dir", rel(EXAMPLE), rel(wasm)]
    print("$ witxgen run " + " ".join(options) + " "
          + (shown if shown is not None else " ".join(map(shlex.quote, args))))
    start = time.perf_counter()
    proc = subprocess.run([*witxgen(), "run", *options, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


def native_accuracy() -> tuple[int, int]:
    """Held-out accuracy of examples/digits/model/model.xml on OpenVINO at f32."""
    import numpy as np
    import openvino as ov

    data = HELDOUT.read_bytes()
    (count,) = struct.unpack_from("<I", data)
    records = np.frombuffer(data, np.uint8, count * 65, 4).reshape(count, 65)
    compiled = ov.Core().compile_model(str(EXAMPLE / "model" / "model.xml"), "CPU",
                                       {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    correct = 0
    for record in records:
        request.infer({0: record[:64].astype(np.float32).reshape(1, 64)})
        scores = request.get_output_tensor(0).data.reshape(-1)
        correct += int(np.argmax(scores)) == int(record[64])
    return correct, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=build_demo.DEFAULT_OUT)
    args = parser.parse_args(argv)
    out: Path = args.out
    models = build_demo.setup_models(out)
    guests = [(lang, out / build_demo.WASM_NAMES[lang]) for lang in build_demo.LANGUAGES]
    guests = [(lang, wasm) for lang, wasm in guests if wasm.is_file()]
    if not guests:
        print("demo: no guest built (see scripts/build_demo.py's messages); nothing to run")
        return 0

    ok = True
    rows = []
    for language, wasm in guests:
        print(f"\n== {language} guest ({rel(wasm)}, {wasm.stat().st_size / 1024:.0f} KiB)")
        code, stdout, stderr, secs = run(models, wasm, [rel(p) for p in IMAGES],
                                         f"{rel(EXAMPLE)}/images/*.pgm")
        sys.stdout.write(stdout + stderr)
        lines = stdout.splitlines()
        good = sum(1 for line in lines if (m := LINE.match(line)) and m[1] == m[2])
        if code != 0 or good != len(IMAGES) or len(lines) != len(IMAGES):
            print(f"demo: {language}: exit {code}, {good}/{len(IMAGES)} samples right")
            ok = False
        code, stdout, stderr, held_secs = run(models, wasm, ["--heldout", rel(HELDOUT)])
        sys.stdout.write(stdout + stderr)
        m = ACCURACY.match(stdout.strip())
        if code != 0 or m is None:
            print(f"demo: {language}: held-out run failed (exit {code})")
            ok = False
        rows.append((language, wasm, good, m, secs, held_secs))

    # load() from the model files instead of load_by_name, with the first guest built.
    files_language, files_wasm = guests[0]
    print(f"\n== load() from files instead of load_by_name ({files_language} guest)")
    code, stdout, stderr, _ = run(None, files_wasm, ["--model", f"{rel(EXAMPLE)}/model",
                                                 "--heldout", rel(HELDOUT)])
    sys.stdout.write(stdout + stderr)
    from_files = ACCURACY.match(stdout.strip())
    ok = ok and code == 0 and from_files is not None

    correct, count = native_accuracy()
    native = f"{correct}/{count}"
    print(f"\n== summary: held-out accuracy through wasi-nn vs native OpenVINO (f32), "
          f"{count} images")
    print(f"{'guest':<16}{'samples':<10}{'Wasm':<10}{'native':<10}{'equal':<7}"
          f"{'run (images, held-out)'}")
    for language, _wasm, good, m, secs, held_secs in rows:
        wasm_acc = f"{m[1]}/{m[2]}" if m else "failed"
        equal = wasm_acc == native
        ok = ok and equal
        print(f"{language:<16}{f'{good}/{len(IMAGES)}':<10}{wasm_acc:<10}{native:<10}"
              f"{'yes' if equal else 'NO':<7}{secs:.1f} s, {held_secs:.1f} s")
    if from_files is not None:
        wasm_acc = f"{from_files[1]}/{from_files[2]}"
        equal = wasm_acc == native
        ok = ok and equal
        print(f"{files_language + ' --model':<16}{'-':<10}{wasm_acc:<10}{native:<10}"
              f"{'yes' if equal else 'NO':<7}(load from files)")
    skipped = [lang for lang in build_demo.LANGUAGES if lang not in {g for g, _ in guests}]
    if skipped:
        print(f"not built (toolchain missing): {', '.join(skipped)}")
    print("demo: OK" if ok else "demo: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
