"""Maps as workspace items: which files to map, where a finished map is stored, the "map" job.

:func:`compute_map` turns job params (dataset, generated files, method, seed,
optional run for a latent map) into a :class:`~synth_core.generation.maps.MapData`
stored under ``cache/maps/`` by a hash of the inputs' contents, so a page finds a
finished map again after a refresh (:func:`map_result_path`). :func:`is_quick`
says whether a page may compute it inline; :func:`map_job` is the background job.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.events import Callback, Progress, emit
from synth_core.features import FeatureSet, file_digest, read_features
from synth_core.generation.maps import (ALL_METHODS, MapConfig, MapData, _real_map_path,
                                        check_mappable, fit_map, joint_tsne, latent_map,
                                        map_cache_key)
from synth_core.workspace import Workspace, get_workspace


def is_generated_file(path: Path) -> bool:
    """True for a feature file written by generation (its attrs hold ``mode``)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            return "mode" in handle.attrs and "features" in handle
    except OSError:
        return False


def generated_files(workspace: Workspace) -> list[Path]:
    """Generated feature files in the workspace's datasets/ and exports/, newest first."""
    found = [p for folder in (workspace.datasets_dir, workspace.exports_dir) if folder.is_dir()
             for p in folder.glob("*.h5") if is_generated_file(p)]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def load_synthetic(refs: Sequence[str], workspace: Workspace) -> FeatureSet | None:
    """Read one or more generated files as one FeatureSet (None when ``refs`` is empty)."""
    from synth_core.data.datasets import dataset_path

    parts, ids = [], []
    for ref in refs:
        path = dataset_path(ref, workspace)
        part = read_features(path)
        if parts and part.n_features != parts[0].n_features:
            raise InputError(f"{path.name} has {part.n_features} features but "
                             f"{refs[0]} has {parts[0].n_features}; map generated files of one "
                             "feature width together")
        parts.append(part)
        ids += part.ids if part.ids is not None else [f"{path.stem}:{i}"
                                                      for i in range(part.n_samples)]
    if not parts:
        return None
    return FeatureSet(features=np.concatenate([p.features for p in parts]),
                      labels=np.concatenate([p.labels for p in parts]),
                      class_names=parts[0].class_names, ids=ids)


def check_map_inputs(params: dict[str, Any], workspace: Workspace) -> tuple[int, int]:
    """Rows of the real and generated data (read from the file shapes) after checking widths.

    Cheap, so a page can refuse bad input before starting a job.
    """
    import h5py

    from synth_core.data.datasets import dataset_path

    params = normalize_params(params)

    def _shape(ref: str) -> tuple[int, int]:
        path = dataset_path(ref, workspace)
        try:
            with h5py.File(path, "r") as handle:
                return tuple(handle["features"].shape)  # type: ignore[return-value]
        except (OSError, KeyError) as exc:
            raise InputError(f"{path}: not a feature file with a /features matrix ({exc})") from exc

    n_real, width = _shape(params["dataset"])
    if not params["run"]:  # a latent map shows the codes, whatever the data's width
        check_mappable(width, f"dataset {params['dataset']}")
    else:
        from synth_core.workspace import read_json

        run_meta = read_json(Path(params["run"]) / "config.json") or {}
        trained = run_meta.get("n_features")
        if trained is not None and int(trained) != width:
            raise InputError(
                f"the model {Path(params['run']).name} was trained on {trained}-feature rows but "
                f"the real dataset {params['dataset']} has {width}; pick the dataset it was "
                f"trained on ({run_meta.get('dataset_ref') or 'see its config.json'})")
    n_generated = 0
    for ref in params["synthetic"]:
        rows, cols = _shape(ref)
        if cols != width:
            raise InputError(
                f"generated file {Path(ref).name} has {cols} features per row but the real "
                f"dataset {params['dataset']} has {width}; pick the real dataset the model was "
                "trained on, or generated data from a model trained on this one")
        n_generated += rows
    return int(n_real), int(n_generated)


def _params_key(params: dict[str, Any], workspace: Workspace) -> str:
    from synth_core.data.datasets import dataset_path

    content = {
        "dataset": file_digest(dataset_path(params["dataset"], workspace)),
        "synthetic": [file_digest(dataset_path(r, workspace)) for r in params.get("synthetic", [])],
        "method": params.get("method", "tsne"),
        "random_state": int(params.get("random_state", 0)),
        "config": params.get("config", {}),
        "run": "",
    }
    if params.get("run"):
        config = Path(params["run"]) / "config.json"
        content["run"] = file_digest(config) if config.is_file() else str(params["run"])
    text = json.dumps(content, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def map_result_path(workspace: Workspace, params: dict[str, Any]) -> Path:
    """Where the MapData for ``params`` is (or will be) stored: ``cache/maps/map-<hash>.npz``."""
    kind = "latent" if params.get("run") else "map"
    return workspace.cache_dir / "maps" / f"{kind}-{_params_key(params, workspace)}.npz"


def normalize_params(params: dict[str, Any]) -> dict[str, Any]:
    """Check and complete map params: dataset, synthetic (list), method, random_state, run."""
    method = str(params.get("method", "tsne"))
    if method not in ALL_METHODS:
        raise InputError(f"map method {method!r} is not known; choose one of "
                         f"{', '.join(ALL_METHODS)}")
    synthetic = params.get("synthetic") or []
    if isinstance(synthetic, (str, os.PathLike)):
        synthetic = [synthetic]
    if params.get("run") and method == "joint-tsne":
        raise InputError("latent maps use 'tsne' or 'pca', not 'joint-tsne'")
    if not params.get("dataset"):
        raise InputError("no dataset given for the map; pass a dataset reference "
                         "(e.g. builtin:digits)")
    return {"dataset": str(params["dataset"]), "synthetic": [str(s) for s in synthetic],
            "method": method, "random_state": int(params.get("random_state", 0)),
            "config": dict(params.get("config") or {}), "run": str(params.get("run") or "")}


def compute_map(params: dict[str, Any], workspace: Workspace, *,
                callback: Callback | None = None) -> tuple[MapData, Path]:
    """Compute (or load) the map described by ``params``; returns it and where it is stored."""
    from synth_core.data.datasets import load_dataset

    params = normalize_params(params)
    out = map_result_path(workspace, params)
    if out.is_file():
        emit(callback, Progress(1.0, "map loaded from the cache", stage="cache"))
        return MapData.load(out), out
    check_map_inputs(params, workspace)  # widths first: the message names the generated file
    start = time.perf_counter()
    real = load_dataset(params["dataset"], workspace)
    real.check_finite(params["dataset"])
    synthetic = load_synthetic(params["synthetic"], workspace)
    config = MapConfig(**{**params["config"], "method": "tsne" if params["method"] != "pca"
                          else "pca", "random_state": params["random_state"]})
    if params["run"]:
        from synth_core.training.runs import Run

        run = Run.load(params["run"])
        data = latent_map(run, real, synthetic, method=config.method,
                          random_state=params["random_state"], callback=callback, config=config)
    elif params["method"] == "joint-tsne":
        data = joint_tsne(real, synthetic, random_state=params["random_state"],
                          perplexity=config.perplexity, pca_components=config.pca_components,
                          n_jobs=config.n_jobs, callback=callback)
    else:
        real_map = fit_map(real, method=config.method, cache_dir=workspace.cache_dir,
                           random_state=params["random_state"], callback=callback, config=config)
        data = real_map.map_data(synthetic, callback=callback)
    data.meta.update({"dataset": params["dataset"], "synthetic": params["synthetic"],
                      "run": params["run"], "seconds": round(time.perf_counter() - start, 3)})
    data.save(out)
    return data, out


def is_quick(params: dict[str, Any], workspace: Workspace) -> bool:
    """True when the map for ``params`` takes about a second: PCA, or t-SNE placement on a real
    map already in the cache (then only the generated rows are placed). Pages run those inline
    and everything else as a job."""
    from synth_core.data.datasets import load_dataset

    params = normalize_params(params)
    if params["method"] == "pca":
        return True
    if params["method"] != "tsne" or params["run"]:
        return False
    config = MapConfig(**{**params["config"], "method": "tsne",
                          "random_state": params["random_state"]})
    real = load_dataset(params["dataset"], workspace)
    key = map_cache_key(real, config)
    return _real_map_path(workspace.cache_dir, "tsne", key).is_file()


def map_job(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Job kind ``"map"``: compute the map and store it under cache/maps/ for the page.

    ``params``: ``dataset`` (reference), ``synthetic`` (list of generated files),
    ``method`` (tsne | joint-tsne | pca), ``random_state``, optional ``run`` (a
    run folder: map its latent space) and ``config`` (MapConfig fields).
    """
    workspace = getattr(ctx, "workspace", None) or get_workspace()
    data, out = compute_map(params, workspace, callback=ctx)
    return {"map": str(out), "method": data.method, "n_real": data.n_real,
            "n_generated": data.n_generated, "seconds": data.meta.get("seconds"),
            "message": f"map of {data.n_real} real and {data.n_generated} generated rows ready"}
