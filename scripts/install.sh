#!/usr/bin/env bash
# Everything a fresh machine needs for `make run` and `make test`: the virtualenv with the project
# and its dev tools, the npm tools (buf, a Node XML-RPC client for interop tests, the Node worker's
# grpc-js), and Debian's chromium (browser test) and wrk (benchmark) when we may install them.
set -euo pipefail
venv=${1:-.venv}
test -x "$venv/bin/python" || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e '.[dev]'
npm install --silent --no-audit --no-fund
# The Node.js example worker keeps its own dependencies (grpc-js), as a worker project would.
npm ci --prefix examples/node_worker --silent --no-audit --no-fund
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: install ${missing[*]} (Debian packages) for the browser test and the benchmark" >&2
  fi
fi
