#!/usr/bin/env bash
# The pino transport with the older pino lines the peer range claims (8, 9;
# pino 10 runs in the vitest suite): packs this package, installs it with each
# pino in a scratch project, logs 10 000 records then calls process.exit(0),
# in both orders (logger first, or awaiting 'ready' first), and checks that
# every record was stored with pino's level labels.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for version in 8 9; do
  work=$(mktemp -d)
  (cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
  (
    cd "$work"
    npm init -y >/dev/null
    npm install --silent --no-audit --no-fund "pino@$version" ./ml-dash-logs-*.tgz
    # Run the fixture from here, so that `pino` and the target resolve to this project's copies.
    cp "$root/test/fixtures/pino-exit.mjs" .
    for mode in logger-first await-ready; do
      rm -rf .dash
      node pino-exit.mjs .dash alice/pino/run 10000 "$mode"
      lines=$(wc -l < .dash/alice/pino/run/logs/logs.jsonl)
      labelled=$(grep -c '"source_level":"info"' .dash/alice/pino/run/logs/logs.jsonl || true)
      if [ "$lines" != 10000 ] || [ "$labelled" != 9999 ]; then
        echo "pino $version ($mode): $lines lines, $labelled with level labels; expected 10000 and 9999" >&2
        exit 1
      fi
      echo "pino $(node -p "require('pino/package.json').version") ($mode, $(node -p "require.resolve('pino')" | sed "s|$work|scratch|")): 10000 records stored"
    done
  )
  rm -rf "$work"
done
