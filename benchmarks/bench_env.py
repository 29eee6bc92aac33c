"""The bench virtualenv (.venv-bench): the comparison servers' dependencies, kept out of the project's.

Created on the first run from `benchmarks/requirements.txt`; reused while that file is unchanged.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
STAMP = ".requirements.sha256"


class BenchEnvFailed(Exception):
    """The bench virtualenv could not be created or filled."""


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_bench_venv(venv: Path, say: Callable[[str], None] = print) -> Path:
    """Create or refresh `venv` from requirements.txt; returns its `bin/` directory."""
    bin_dir = venv / "bin"
    stamp = venv / STAMP
    wanted = _digest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == wanted:
        return bin_dir
    say(f"preparing {venv} from {REQUIREMENTS.name} (first run, or the requirements changed)")
    steps = []
    if not (bin_dir / "python").exists():
        steps.append([sys.executable, "-m", "venv", str(venv)])
    steps.append([str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchEnvFailed(f"{' '.join(step)} failed:\n{done.stdout}{done.stderr}")
    stamp.write_text(wanted + "\n", encoding="utf-8")
    return bin_dir
