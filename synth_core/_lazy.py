"""Lazy re-exports for the step subpackages.

Each step's ``__init__`` names its public functions and classes without
importing the modules that hold them, so that ``import synth_core.training.runs``
or ``python -m synth_core --help`` does not pull in torch, scikit-learn or
Optuna through a sibling module. The first attribute access imports the one
module that defines the name (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for *package*, where *exports* maps name -> submodule."""

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
