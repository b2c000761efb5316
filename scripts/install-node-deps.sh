#!/usr/bin/env bash
# Install the Node toolchains the guest tests use (AssemblyScript 0.28 + its WASI shim) into
# the repo's node_modules/, exactly as package-lock.json pins them. Idempotent: `npm ci` runs
# only when node_modules/ is missing or older than package-lock.json. Without npm it says so
# and exits 0 (the AssemblyScript tests then skip locally, and fail under CI=true).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { printf 'install-node-deps: %s\n' "$*"; }

if ! command -v npm >/dev/null 2>&1; then
    say "npm not found, skipping (install Debian's nodejs and npm packages for the AssemblyScript tests)"
    exit 0
fi

# npm ci rewrites node_modules/ as a whole, so its mtime marks the last install.
stamp="node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ -x node_modules/.bin/asc ] && [ ! package-lock.json -nt "$stamp" ]; then
    say "node_modules up to date"
    exit 0
fi

say "npm ci ($(npm --version 2>/dev/null), node $(node --version 2>/dev/null))"
npm ci --no-audit --no-fund
say "node_modules ready: $(node_modules/.bin/asc --version)"
