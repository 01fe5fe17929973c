"""Step 6, Evaluate: numbers that say whether synthetic rows are any good.

The scorecard (:mod:`.scorecard`: TSTR/TRTR, precision/recall/density/coverage,
Frechet distance, detection AUC, copy check, PSNR, each beside a real held-out
reference) and the tabular augmentation benchmark (:mod:`.augmentation`).
"""

from synth_core._lazy import lazy_exports

_EXPORTS: dict[str, str] = {}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
