"""Regenerate the golden files: `python tests/update_golden.py [TARGET...]`.

For each target (default: every registered target whose module exists) and each input in
`tests/golden_inputs.py`, replaces `tests/golden/<input>/<target>/` with what the target
generates now. Review the diff before committing it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ (conftest, golden_inputs)

from golden_inputs import GOLDEN_INPUTS, golden_root, render, target_exists  # noqa: E402

from witxgen.targets import DEFAULT_TARGETS, REGISTRY, GenerateError  # noqa: E402


def main(argv: list[str]) -> int:
    unknown = [t for t in argv if t not in REGISTRY]
    if unknown:
        print(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}",
              file=sys.stderr)
        return 2
    status = 0
    for target in argv or list(DEFAULT_TARGETS):  # conformance has no goldens
        if not target_exists(target):
            print(f"{target}: skipped (its module is not written yet)")
            continue
        for golden in GOLDEN_INPUTS:
            if not golden.path.is_file():
                print(f"{target} × {golden.name}: skipped ({golden.path} not found)")
                continue
            try:
                files = render(target, golden)
            except (GenerateError, ImportError) as exc:
                print(f"{target} × {golden.name}: error: {exc}", file=sys.stderr)
                status = 1
                continue
            root = golden_root(target, golden)
            shutil.rmtree(root, ignore_errors=True)
            for rel, text in files.items():
                path = root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, "utf-8")
            print(f"{target} × {golden.name}: {len(files)} file(s) in "
                  f"{root.relative_to(Path.cwd()) if root.is_relative_to(Path.cwd()) else root}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
