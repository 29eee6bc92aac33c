#!/usr/bin/env bash
# What `make run` and the checks need: the virtualenv with the project, its server extra and dev
# tools at the versions in constraints.txt, the npm tools (buf, protoc-gen-es, a Node XML-RPC
# client for interop tests) exactly as package-lock.json lists them, and the Node example worker's
# own dependencies (grpc-js), as a worker project would keep them. `npm ci` never rewrites a lock.
set -euo pipefail
venv=${1:-.venv}
test -x "$venv/bin/python" || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -c constraints.txt -e '.[dev]'
npm ci --silent --no-audit --no-fund
npm ci --prefix examples/node_worker --silent --no-audit --no-fund
