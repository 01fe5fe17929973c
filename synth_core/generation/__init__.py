"""Steps 4 and 5, Generate and Explore: new rows from a trained model, and maps.

Generate: latent interpolation between two samples and the thesis's batch
protocol (:mod:`.interpolation`) and the path player that walks a path in the
browser (:mod:`.player`), codes from a prior by class or for class counts
(:mod:`.sampling`), one :class:`GenerateConfig` for CLI, page and job
(:mod:`.generator`), saving and HDF5/CSV/NPZ export (:mod:`.export`); the shared
encode/decode and provenance pieces live in :mod:`.codes`.

Explore: t-SNE and PCA maps of real rows with generated rows placed on them, the
thesis's joint t-SNE and latent-space maps (:mod:`.maps`), their figures
(:mod:`.figures`), maps stored in the workspace and the map job
(:mod:`.map_jobs`), and exact nearest real rows (:mod:`.neighbors`).
"""

from synth_core._lazy import lazy_exports

_EXPORTS = {
    # generate
    "GenerateConfig": "generator",
    "generate": "generator",
    "generate_job": "generator",
    "run_data_or_none": "generator",
    "LARGE_REQUEST": "generator",
    "Endpoints": "interpolation",
    "batch_protocol": "interpolation",
    "check_t": "interpolation",
    "decode_path": "interpolation",
    "encode_pair": "interpolation",
    "interpolate": "interpolation",
    "interpolate_codes": "interpolation",
    "interpolate_pair": "interpolation",
    "random_pair": "interpolation",
    "sample_class": "sampling",
    "sample_prior": "sampling",
    "synthesize": "sampling",
    "load_run_data": "codes",
    "resolve_class": "codes",
    "default_export_name": "export",
    "export_bytes": "export",
    "export_generated": "export",
    "save_generated": "export",
    # explore
    "MapConfig": "maps",
    "MapData": "maps",
    "RealMap": "maps",
    "fit_map": "maps",
    "joint_tsne": "maps",
    "latent_map": "maps",
    "add_marker": "figures",
    "export_figure": "figures",
    "map_figure": "figures",
    "path_player": "player",
    "compute_map": "map_jobs",
    "generated_files": "map_jobs",
    "map_job": "map_jobs",
    "nearest_rows": "neighbors",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
