"""Step 1, Data: getting rows into the workspace as HDF5 feature files.

Embedded datasets and the workspace's own (:mod:`.datasets`), audio reading
(:mod:`.audio`), dataset layouts such as UrbanSound8K and ESC-50
(:mod:`.layouts`), VGGish and log-mel extraction (:mod:`.extraction`), matrix
importers for HDF5/CSV/NPZ (:mod:`.importers`), safe uploads (:mod:`.uploads`),
the demo sounds and MNIST readers, and the feature scaling stored with a
dataset or a run (:mod:`.scaling`).
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    "load_dataset": "datasets", "save_dataset": "datasets", "dataset_path": "datasets",
    "list_dataset_refs": "datasets", "BUILTINS": "datasets",
    "extract_features": "extraction", "extract_to_file": "extraction",
    "import_to_file": "importers", "MinMaxScaling": "scaling",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
