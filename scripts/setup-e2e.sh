#!/usr/bin/env bash
# Set-up for the end-to-end tests (test/e2e): a real VS Code (code-server 4.100.3,
# which serves VS Code 1.100.3 on Node 20) and Debian's Chromium for Playwright.
# Idempotent and quick when everything is already there. Everything comes from the
# Debian archive and the npm registry; nothing is fetched from elsewhere.
#
#   bash scripts/setup-e2e.sh            # install (as root: also the Debian packages)
#   TRACELIFT_E2E_DIR=/some/dir ...      # install code-server elsewhere (default: .e2e/ in the repo)
#
# code-server's own npm post-install does not work here (a native module needs
# libkrb5-dev, @vscode/ripgrep downloads a binary from outside the registries, and
# npm 11 ignores --unsafe-perm as root), so the package is installed with
# --ignore-scripts and its post-install steps are done by hand below.
# See docs/e2e.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CS_VERSION="4.100.3"
E2E_DIR="${TRACELIFT_E2E_DIR:-$ROOT/.e2e}"
PREFIX="$E2E_DIR/code-server-$CS_VERSION"
CS="$PREFIX/node_modules/code-server"
MARKER="$PREFIX/.setup-complete"

T0=$(date +%s.%N)
TSTEP=$T0
log() { printf '[setup-e2e] %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }
step_done() { log "$1 ($(elapsed "$TSTEP"))"; TSTEP=$(date +%s.%N); }

# --- Node ----------------------------------------------------------------------
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" != 20 ]; then
  echo "[setup-e2e] code-server $CS_VERSION runs on Node 20; this is Node $(node --version)" >&2
  exit 1
fi

# --- Debian packages --------------------------------------------------------------
# chromium: the browser Playwright drives; ripgrep: VS Code's search binary;
# libkrb5-dev + a C/C++ tool chain: to build code-server's native modules.
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/rg ] || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup-e2e] please install: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  log "installing Debian packages: ${need_apt[*]}"
  # Other processes may hold the apt locks for a while: wait for them.
  for attempt in 1 2 3 4 5; do
    if apt-get -o DPkg::Lock::Timeout=300 update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
        "${need_apt[@]}" >/dev/null; then
      break
    fi
    [ "$attempt" = 5 ] && { echo "[setup-e2e] apt-get failed" >&2; exit 1; }
    log "apt-get failed (attempt $attempt), retrying in 10s"
    sleep 10
  done
  step_done "Debian packages installed"
else
  step_done "Debian packages present"
fi

# --- code-server -----------------------------------------------------------------
if [ -f "$MARKER" ] && [ -f "$CS/out/node/entry.js" ] && [ -e "$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]; then
  step_done "code-server $CS_VERSION already installed in $PREFIX"
else
  rm -f "$MARKER"
  mkdir -p "$PREFIX"
  # Native modules are built against the headers of the Node that runs them; point
  # node-gyp at the local headers so it does not download them.
  NODE_BIN="$(readlink -f "$(command -v node)")"
  NODE_DIR="$(dirname "$(dirname "$NODE_BIN")")"
  if [ -f "$NODE_DIR/include/node/common.gypi" ]; then
    export npm_config_nodedir="$NODE_DIR"
  fi
  export npm_config_yes=true           # let npm fetch node-gyp from the registry when a script asks for it
  export npm_config_unsafe_perm=true   # npm 11 ignores --unsafe-perm; scripts run as root need this
  export npm_config_build_from_source=true  # prebuild-install / node-pre-gyp would download binaries from GitHub
  export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  export JOBS="$(nproc)"                # node-gyp parallelism

  if [ ! -f "$CS/out/node/entry.js" ] || [ "$(node -p "require('$CS/package.json').version" 2>/dev/null)" != "$CS_VERSION" ]; then
    log "npm install code-server@$CS_VERSION --ignore-scripts"
    [ -f "$PREFIX/package.json" ] || echo '{ "private": true }' >"$PREFIX/package.json"
    (cd "$PREFIX" && npm install --ignore-scripts --no-save --loglevel=error "code-server@$CS_VERSION")
    step_done "code-server package installed"
  fi

  # What code-server's ci/build/npm-postinstall.sh does, by hand:
  log "lib/vscode: npm install --ignore-scripts --omit=dev"
  (cd "$CS/lib/vscode" && npm install --ignore-scripts --omit=dev --loglevel=error)
  step_done "lib/vscode dependencies installed"

  log "lib/vscode: rebuilding native modules"
  (cd "$CS/lib/vscode" && npm rebuild --loglevel=error kerberos @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog node-pty)
  step_done "native modules rebuilt"

  # @vscode/ripgrep would download rg from GitHub: use Debian's instead.
  RG_DIR="$CS/lib/vscode/node_modules/@vscode/ripgrep/bin"
  mkdir -p "$RG_DIR"
  ln -sf /usr/bin/rg "$RG_DIR/rg"

  # VS Code loads its modules through node_modules.asar; code-server links it to node_modules.
  (cd "$CS/lib/vscode" && { [ -e node_modules.asar ] || ln -s node_modules node_modules.asar; })

  # The CLI helper scripts the post-install links (used by the integrated terminal's `code`).
  if [ -f "$CS/lib/vscode/bin/remote-cli/code-linux.sh" ] && [ ! -e "$CS/lib/vscode/bin/remote-cli/code-server" ]; then
    ln -s code-linux.sh "$CS/lib/vscode/bin/remote-cli/code-server" || true
  fi
  if [ -f "$CS/lib/vscode/bin/helpers/browser-linux.sh" ] && [ ! -e "$CS/lib/vscode/bin/helpers/browser.sh" ]; then
    ln -s browser-linux.sh "$CS/lib/vscode/bin/helpers/browser.sh" || true
  fi

  log "lib/vscode/extensions: npm install --ignore-scripts --omit=dev"
  (cd "$CS/lib/vscode/extensions" && npm install --ignore-scripts --omit=dev --loglevel=error)
  step_done "built-in extensions' dependencies installed"

  # argon2 is a dependency of the code-server package, hoisted next to it.
  log "rebuilding argon2"
  (cd "$PREFIX" && npm rebuild --loglevel=error argon2)
  step_done "argon2 rebuilt"

  # Smoke check: the server starts far enough to print its version.
  # (--config: otherwise it writes a default config, with a password, into the user's home.)
  printf 'auth: none\ncert: false\n' >"$PREFIX/config.yaml"
  VERSION_OUT="$(node "$CS/out/node/entry.js" --config "$PREFIX/config.yaml" --version 2>&1 | grep -E '^[0-9]+\.[0-9]+\.[0-9]+' || true)"
  case "$VERSION_OUT" in
    "$CS_VERSION"*) ;;
    *) echo "[setup-e2e] code-server --version printed: $VERSION_OUT" >&2; exit 1 ;;
  esac
  echo "$CS_VERSION" >"$MARKER"
  step_done "code-server $CS_VERSION ready ($VERSION_OUT)"
fi

log "done in $(elapsed "$T0"): code-server $CS_VERSION at ${CS#"$ROOT"/}, $(/usr/bin/chromium --version 2>/dev/null | head -n1), ripgrep $(/usr/bin/rg --version | head -n1 | awk '{print $2}')"
