#!/usr/bin/env bash
# Installs what r2watch needs and is missing: Debian packages (as root) and npm packages from
# the committed lockfile. Quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake make g++ pkg-config
  clang-14 lld-14 llvm-14 clang-format
  wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
  nlohmann-json3-dev libgtest-dev libbenchmark-dev
  prometheus prometheus-alertmanager
  emscripten chromium
  libclang-rt-14-dev wrk ccache
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "$tool is required (Node.js 20 or later)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "Node.js 20 or later is required (found $(node --version))" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
