"""The benchmark scripts as modules for the tests that check them (tests/test_peers.py,
test_real_tables.py, test_street_sounds.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(name: str):
    """``benchmarks/<name>.py`` as a module, loaded by path once, without putting benchmarks/
    on sys.path (its app.py would shadow the dashboard's). The module name is the one
    quality.py gives its siblings, so both share one copy."""
    module_name = f"_bench_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses look their module up while being built
        spec.loader.exec_module(module)
    return sys.modules[module_name]
