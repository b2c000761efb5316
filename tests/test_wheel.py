"""The built wheel works on its own: build it, install it into a fresh venv, run the CLI.

Catches packaging mistakes a checkout hides: package data left out of the wheel (the lark
grammar, the templates), a missing dependency, a console script that doesn't resolve, code
that reads files relative to the repo or the cwd. Slow-ish (a build in an isolated env plus a
venv and a pip install, ~15 s), but always run. Needs PyPI (or a local wheel mirror) for
hatchling, lark and jinja2.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC = REPO_ROOT / "spec" / "wasi-nn.witx"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """The environment without anything that could make the repo importable."""
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(var, None)
    return env


def _run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=_env(), capture_output=True, text=True,
        timeout=600, check=False,
    )


def _show(proc: subprocess.CompletedProcess[str]) -> str:
    return (f"{' '.join(map(str, proc.args))} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    if importlib.util.find_spec("build") is not None:
        argv: list[str | Path] = [sys.executable, "-m", "build", "--wheel", "--outdir", out,
                                  REPO_ROOT]
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, REPO_ROOT]
    proc = _run(argv, cwd=REPO_ROOT)
    assert proc.returncode == 0, _show(proc)
    wheels = sorted(out.glob("witxgen-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the wheel installed; returns its bin/."""
    root = tmp_path_factory.mktemp("wheel-venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(root)
    bindir = root / "bin"
    proc = _run([bindir / "python", "-m", "pip", "install", "-q", wheel], cwd=root)
    assert proc.returncode == 0, _show(proc)
    return bindir


def test_wheel_contains_package_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "witxgen/grammar/witx.lark" in names, names
    assert any(n.startswith("witxgen/templates/") for n in names), names
    assert "witxgen/cli.py" in names, names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")], names


def test_installed_cli_checks_spec_outside_repo(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "outside"
    work.mkdir()
    assert REPO_ROOT not in work.resolve().parents
    shutil.copy(SPEC, work / "wasi-nn.witx")

    # The venv's witxgen, not the checkout's.
    where = _run([installed / "python", "-c", "import witxgen; print(witxgen.__file__)"],
                 cwd=work)
    assert where.returncode == 0, _show(where)
    assert Path(where.stdout.strip()).resolve().is_relative_to(installed.parent.resolve()), \
        where.stdout

    check = _run([installed / "witxgen", "check", "wasi-nn.witx"], cwd=work)
    assert check.returncode == 0, _show(check)

    abi = _run([installed / "witxgen", "abi", "--json", "wasi-nn.witx"], cwd=work)
    assert abi.returncode == 0, _show(abi)
    data = json.loads(abi.stdout)
    assert set(data) == {"types", "modules"}
    assert data["modules"], data
