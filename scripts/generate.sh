#!/usr/bin/env bash
# Regenerates generated/ from proto/: messages, gRPC stubs and .pyi types. Nothing else writes there.
set -euo pipefail
python=${1:-python3}
rm -rf generated
mkdir -p generated
"$python" -m grpc_tools.protoc -Iproto \
  --python_out=generated --grpc_python_out=generated --pyi_out=generated \
  proto/rpcbridge/v1/*.proto
touch generated/rpcbridge/__init__.py generated/rpcbridge/v1/__init__.py generated/rpcbridge/py.typed
