"""Finds the `Worker` a command line names: `module`, `module:attr` or `path/to/file.py[:attr]`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from bridge.errors import ConfigError
from bridge.worker import Worker

DEFAULT_ATTRIBUTE = "worker"


def load_worker(target: str) -> Worker:
    """Import the target and return its Worker (attribute defaults to `worker`)."""
    location, _, attribute = target.partition(":")
    if location.endswith(".py") and len(location) > 3 and location[-4] != ":":
        module = _load_file(Path(location))
    else:
        try:
            module = importlib.import_module(location)
        except ImportError as exc:
            raise ConfigError(f"cannot import worker module {location!r}: {exc}") from exc
    found = getattr(module, attribute or DEFAULT_ATTRIBUTE, None)
    if not isinstance(found, Worker):
        raise ConfigError(
            f"{target!r} does not name a bridge.Worker (looked for {attribute or DEFAULT_ATTRIBUTE!r})"
        )
    return found


def _load_file(path: Path) -> object:
    if not path.is_file():
        raise ConfigError(f"worker file {str(path)!r} does not exist")
    name = f"rpcbridge_worker_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load worker file {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Let the worker file import its neighbours, as `python path/to/file.py` would.
    sys.path.insert(0, str(path.resolve().parent))
    spec.loader.exec_module(module)
    return module
