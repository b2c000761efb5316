#!/usr/bin/env bash
# Set up everything witxgen's tests, demo and benchmarks need, on a fresh Debian 12 machine
# or an already prepared one (idempotent; a no-op costs well under a second):
#   1. Debian packages: wasi-libc (its api.h is a test oracle) and the guest toolchains
#      (Rust → wasm32, clang-14 + wasi-libc for C, wabt). apt runs only when one is missing.
#   2. A virtualenv .venv in the repo with `pip install -e '.[test,runtime,conformance]'`; redone only
#      when pyproject.toml changed since the last install (or the venv is broken).
#   3. node_modules/ from package-lock.json (AssemblyScript 0.28 + WASI shim).
# Environment: PYTHON (default python3) picks the interpreter for the venv.
set -euo pipefail

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
REPO="$(dirname "$(dirname "$SELF")")"
cd "$REPO"

PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv"
STAMP="$VENV/.witxgen-bootstrap"
APT_PACKAGES=(wasi-libc rustc libstd-rust-dev-wasm32 lld clang-14 libclang-rt-14-dev-wasm32 wabt)

say() { printf 'bootstrap: %s\n' "$*"; }

# --- 1. Debian packages -------------------------------------------------------------------
installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

# The AssemblyScript toolchain comes from npm; Debian's nodejs/npm serve when no npm is here.
if ! command -v npm >/dev/null 2>&1; then
    APT_PACKAGES+=(nodejs npm)
fi

# Debian's own python3 ships `venv` without ensurepip; that lives in python3-venv.
if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
    APT_PACKAGES+=(python3-venv)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    say "no dpkg here: install by hand the equivalents of: ${APT_PACKAGES[*]}"
else
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "apt packages present"
    elif [ "$(id -u)" -ne 0 ]; then
        say "not root, skipping apt (tests needing these skip, or fail under CI=true); as root run:"
        say "  apt-get install -y --no-install-recommends ${missing[*]}"
    else
        say "installing apt packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt_opts=(-q -y -o DPkg::Lock::Timeout=300)
        apt-get "${apt_opts[@]}" update >/dev/null
        apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
        say "apt packages installed"
    fi
fi

# --- 2. virtualenv ------------------------------------------------------------------------
# The stamp records what the last successful install was made from.
want_stamp="$(cat pyproject.toml "$SELF" | sha256sum | cut -d' ' -f1)"

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
    say "$VENV is broken (interpreter gone?), recreating"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
        say "error: $PYTHON is $("$PYTHON" -V 2>&1); witxgen needs Python >= 3.10" >&2
        exit 1
    }
    say "creating $VENV with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi

# Up to date = same stamp, and `import witxgen` finds this checkout (editable install).
up_to_date() {
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] || return 1
    local where
    where="$("$VENV/bin/python" -c 'import witxgen; print(witxgen.__file__)' 2>/dev/null)" || return 1
    [ "$where" = "$REPO/witxgen/__init__.py" ]
}

if up_to_date; then
    say ".venv up to date"
else
    say "pip install -e '.[test,runtime,conformance]' into .venv"
    rm -f "$STAMP"
    "$VENV/bin/python" -m pip install -q -e "$REPO[test,runtime,conformance]"
    printf '%s\n' "$want_stamp" >"$STAMP"
    say ".venv ready"
fi

# --- 3. Node packages (AssemblyScript guests) ---------------------------------------------
bash "$REPO/scripts/install-node-deps.sh"
