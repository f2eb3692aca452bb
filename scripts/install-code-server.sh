#!/usr/bin/env bash
# Installs code-server 4.100.3 (= VS Code 1.100.3 with a Node 20 extension host) into .vscode-test/code-server/,
# its own npm project, so that a failure here can never break the project's `npm ci`. Idempotent: a second run
# only checks the installed version. See ../shared/docs/real-vscode-e2e.md for the pitfalls handled below.
# Env: TE_SKIP_APT=1 skips the apt step (e.g. when packages are provided some other way).
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.vscode-test/code-server"
BIN="$DIR/node_modules/.bin/code-server"
MARKER="$DIR/.installed-$VERSION"
# An empty --config keeps code-server from writing ~/.config/code-server/config.yaml.
version_of() { [[ -x "$BIN" ]] && "$BIN" --config "$DIR/empty-config.yaml" --version 2>/dev/null | head -1; }

log() { echo "[install-code-server] $*"; }

mkdir -p "$DIR" && touch "$DIR/empty-config.yaml"
if [[ -f "$MARKER" ]] && [[ "$(version_of || true)" == "$VERSION "* ]]; then
  log "code-server $VERSION already installed in $DIR"
  exit 0
fi

# --- apt packages, only those missing: gssapi headers (kerberos addon), ripgrep (search), chromium (e2e), build tools.
if [[ "${TE_SKIP_APT:-}" != 1 ]]; then
  missing=()
  for p in libkrb5-dev ripgrep chromium g++ make python3; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "Missing apt packages: ${missing[*]}. Install them (sudo apt-get install -y ${missing[*]}) and rerun." >&2
      exit 1
    fi
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
command -v rg >/dev/null || { echo "ripgrep (rg) is required: apt-get install ripgrep" >&2; exit 1; }

mkdir -p "$DIR"
cd "$DIR"
[[ -f package.json ]] || cat > package.json <<JSON
{ "name": "te-code-server", "private": true, "description": "code-server for Transformer Explorer's integration and e2e tests" }
JSON

# A private temp dir: @vscode/ripgrep looks for its download in <tmp>/vscode-ripgrep-cache-<pkg version>/.
# We pre-seed that cache with Debian's rg so its postinstall never goes to GitHub.
export TMPDIR="$DIR/.tmp"
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
case "$(uname -m)" in
  x86_64) RG_TRIPLE=x86_64-unknown-linux-musl ;;
  aarch64) RG_TRIPLE=aarch64-unknown-linux-musl ;;
  *) RG_TRIPLE="" ;;
esac
if [[ -n "$RG_TRIPLE" ]]; then
  stage="$TMPDIR/rg-stage"; mkdir -p "$stage"; cp "$(command -v rg)" "$stage/rg"
  for pkgv in 1.15.9 1.15.10 1.15.11 1.15.12 1.15.13 1.15.14; do
    for rgv in v13.0.0-10 v13.0.0-13; do
      mkdir -p "$TMPDIR/vscode-ripgrep-cache-$pkgv"
      tar -czf "$TMPDIR/vscode-ripgrep-cache-$pkgv/ripgrep-$rgv-$RG_TRIPLE.tar.gz" -C "$stage" rg
    done
  done
fi

# node-pty's postinstall runs `npx node-gyp` (needs yes=true); code-server's install script needs --unsafe-perm as root.
export npm_config_yes=true
log "npm install code-server@$VERSION (a minute or two)"
if ! npm install --no-audit --no-fund --unsafe-perm "code-server@$VERSION" >"$DIR/install.log" 2>&1; then
  log "regular install failed (see $DIR/install.log); retrying with --ignore-scripts and targeted rebuilds"
  npm install --no-audit --no-fund --unsafe-perm --ignore-scripts "code-server@$VERSION" >>"$DIR/install.log" 2>&1
  CS="$DIR/node_modules/code-server"
  (cd "$CS" && npm rebuild argon2) >>"$DIR/install.log" 2>&1
  (cd "$CS/lib/vscode" && npm i --omit=dev --ignore-scripts --no-audit --no-fund \
     && npm rebuild @vscode/spdlog native-watchdog node-pty @vscode/deviceid \
     && { [[ -e node_modules.asar ]] || ln -s node_modules node_modules.asar; }) >>"$DIR/install.log" 2>&1
  rgdir="$(find "$CS/lib/vscode/node_modules/@vscode/ripgrep" -maxdepth 0 2>/dev/null || true)"
  if [[ -n "$rgdir" ]]; then mkdir -p "$rgdir/bin"; cp "$(command -v rg)" "$rgdir/bin/rg"; fi
fi
rm -rf "$TMPDIR"

got="$(version_of || true)"
if [[ "$got" != "$VERSION "* ]]; then
  echo "code-server install failed: '$BIN --version' printed '$got'. See $DIR/install.log" >&2
  exit 1
fi
touch "$MARKER"
log "installed: $got in ${SECONDS}s"
