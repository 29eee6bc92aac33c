# The front door: how people and CI run things. Recipes stay short; logic lives in scripts/.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PROTOS := $(wildcard proto/rpcbridge/v1/*.proto)

.PHONY: install run test lint typecheck generate check-generated buf-breaking stubs bench check clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt package-lock.json examples/node_worker/package-lock.json scripts/install.sh
	scripts/install.sh $(VENV) && touch $@

run: install
	$(BIN)/rpcbridge up --worker examples/example_worker.py

test: install lint typecheck check-generated buf-breaking
	scripts/need_debian_packages.sh chromium protoc-gen-go protoc-gen-go-grpc
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && npx --no-install buf lint && npx --no-install buf format --diff --exit-code

typecheck: install
	$(BIN)/mypy

generate: install
	scripts/generate.sh $(PY)

check-generated: install
	scripts/generate.sh $(PY) && git diff --exit-code --stat -- generated/ && test -z "$$(git status --porcelain -- generated/)"

bench: install
	scripts/need_debian_packages.sh wrk
	$(PY) -m benchmarks.run

# The protos are a public contract: no change may break what clients generated from main's.
buf-breaking: install
	scripts/buf_breaking.sh

# TypeScript and Go stubs from proto/ into gen/ (untracked); see docs/stubs.md.
stubs: install
	scripts/need_debian_packages.sh protoc-gen-go protoc-gen-go-grpc
	npx --no-install buf generate --template buf.gen.yaml

check: lint typecheck check-generated buf-breaking test

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache
