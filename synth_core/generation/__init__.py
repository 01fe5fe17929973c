"""Steps 4 and 5, Generate and Explore: new rows from a trained model, and maps.

Interpolation between two samples, the thesis's batch protocol, CVAE samples
by class, prior sampling and export with provenance (:mod:`.generator`); t-SNE
and PCA maps with generated rows as stars, and the latent-space map
(:mod:`.maps`).
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    "fit_map": "maps",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
