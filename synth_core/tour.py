"""The one-click tours: digits (a VAE, 3 -> 8, mapped) and sounds (a CVAE, siren -> car horn).

What the home page's "Take the tour" button runs, as a background job (kind
``"tour"``). It shows the whole loop of the tool in about half a minute on a
laptop: a VAE learns the 8x8 digits, the path from a typical 3 to a typical 8
is decoded in latent space (the thesis showed 3 -> 8 on MNIST), and the
decoded path lands as stars on a map of the real digits. Everything it makes is
an ordinary workspace artefact (a run folder, a generated file, a cached map),
so the Generate and Explore pages pick up from there.

The audio variant (:data:`AUDIO_TOUR`, job params ``{"variant": "audio"}``)
trains the ``spectrogram-cvae`` preset on ``builtin:demo-spectrograms`` for a
few epochs and decodes the path from a siren to a car horn; each decoded point
is a spectrogram the home page plays as sound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from synth_core.data.datasets import load_dataset
from synth_core.errors import InputError
from synth_core.events import Callback, Progress, emit
from synth_core.features import FeatureSet
from synth_core.workspace import Workspace, get_workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TourConfig:
    dataset: str = "builtin:digits"
    from_class: str = "3"
    to_class: str = "8"
    steps: int = 10
    map_method: str = "tsne"
    seed: int = 0
    preset: str = ""    # a training preset instead of the digits' small VAE (audio tour)
    epochs: int = 0     # 0: the preset's (or the digits VAE's) own


# Sounds: a conditional VAE on the demo spectrograms, a path you can listen to.
AUDIO_TOUR = TourConfig(dataset="builtin:demo-spectrograms", from_class="siren",
                        to_class="car_horn", steps=6, map_method="pca",
                        preset="spectrogram-cvae", epochs=12)
VARIANTS: dict[str, TourConfig] = {"digits": TourConfig(), "audio": AUDIO_TOUR}


def typical_row(data: FeatureSet, class_index: int) -> int:
    """The row of ``class_index`` closest to its class mean: a clean example to start from."""
    rows = np.flatnonzero(data.labels == class_index)
    if rows.size == 0:
        raise InputError(f"class {class_index} has no rows in this dataset; pick another class")
    X = data.features[rows]
    return int(rows[np.argmin(((X - X.mean(axis=0)) ** 2).sum(axis=1))])


def run_tour(workspace: Workspace, config: TourConfig = TourConfig(), *,
             callback: Callback | None = None) -> dict[str, Any]:
    """Train, interpolate and map; returns paths of the run, the path file and the map."""
    from synth_core.generation import fit_map, interpolate_pair, save_generated
    from synth_core.training.runs import Run
    from synth_core.training.config import PRESETS
    from synth_core.training.trainer import new_run_dir, train_model

    data = load_dataset(config.dataset, workspace)
    names = data.class_names
    for name in (config.from_class, config.to_class):
        if name not in names:
            raise InputError(f"tour: class {name!r} is not in {config.dataset} "
                             f"(classes {', '.join(names)})")
    a, b = names.index(config.from_class), names.index(config.to_class)

    if config.preset:
        if config.preset not in PRESETS:
            raise InputError(f"tour: unknown preset {config.preset!r}; choose one of "
                             f"{', '.join(PRESETS)}")
        train_config = replace(PRESETS[config.preset], seed=config.seed)
    else:
        # A small VAE with a light KL weight: sharp enough digits after ~100 epochs of 1.6k rows.
        train_config = replace(PRESETS["quick-vae"], latent_dim=8, hidden=(256,), epochs=120,
                               beta=0.25, patience=15, seed=config.seed)
    if config.epochs:
        train_config = replace(train_config, epochs=int(config.epochs))
    kind = train_config.model

    def training_progress(event: Any) -> None:
        if hasattr(event, "epoch"):
            emit(callback, Progress(0.7 * event.epoch / event.n_epochs,
                                    f"training a small {kind.upper()}: epoch {event.epoch}/"
                                    f"{event.n_epochs}",
                                    stage="train"))

    emit(callback, Progress(0.0, f"training a small {kind.upper()} on {config.dataset}",
                            stage="train"))
    result = train_model(data, train_config, run_dir=new_run_dir(workspace, kind),
                         callback=training_progress, dataset_ref=config.dataset)
    run = Run.load(result.run_dir)

    emit(callback, Progress(0.72, f"interpolating {config.from_class} -> {config.to_class}",
                            stage="generate"))
    row_a, row_b = typical_row(data, a), typical_row(data, b)
    t = np.linspace(0.0, 1.0, config.steps + 2)[1:-1]  # interior points, as in the thesis
    path = interpolate_pair(run, data, row_a, row_b, t=t, random_state=config.seed)
    path_file = save_generated(path, workspace,
                               f"tour-{config.from_class}-to-{config.to_class}")

    emit(callback, Progress(0.8, f"fitting a {config.map_method} map of the real rows",
                            stage="map"))
    real_map = fit_map(data, method=config.map_method, cache_dir=workspace.cache_dir,
                       random_state=config.seed)
    map_data = real_map.map_data(path)
    map_path = workspace.cache_dir / "maps" / f"tour-{result.run_dir.name}.npz"
    map_data.save(map_path)  # atomic, creates cache/maps/
    emit(callback, Progress(1.0, "tour ready", stage="done"))
    return {"run_dir": str(result.run_dir), "generated": str(path_file), "map": str(map_path),
            "rows": [row_a, row_b], "best_val_loss": result.best_val_loss,
            "epochs_run": result.epochs_run, "from_class": config.from_class,
            "to_class": config.to_class, "audio": "spectrogram" in data.attrs,
            "message": (f"trained a {kind.upper()} in {result.epochs_run} epochs, decoded "
                        f"{len(t)} points from {config.from_class} to {config.to_class} and "
                        "mapped them")}


def tour_job(params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Job kind ``"tour"``; ``params["variant"]`` picks digits (default) or audio, and other
    params override :class:`TourConfig` fields."""
    workspace = getattr(ctx, "workspace", None) or get_workspace()
    variant = str(params.get("variant", "digits"))
    if variant not in VARIANTS:
        raise InputError(f"tour: unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    known = {k: v for k, v in params.items() if k in TourConfig.__dataclass_fields__}
    return run_tour(workspace, replace(VARIANTS[variant], **known), callback=ctx)
