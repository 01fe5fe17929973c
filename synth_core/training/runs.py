"""Saved training runs: load a run folder and use its model on raw-scale data.

A run folder (written by :func:`synth_core.training.trainer.save_run`) describes
itself: ``config.json`` holds the training config and the model's shape, so
:meth:`Run.load` rebuilds the model and loads the ``model.pt`` state_dict with
``weights_only=True`` (no pickled code). :class:`Run` takes and returns
features in the dataset's original scale; scaling to [0, 1] and back is done
with the run's own scaler. :func:`run_summaries` lists runs with their metrics
for comparison without loading any weights.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synth_core import __version__
from synth_core.errors import DamagedError, InputError, StorageError
from synth_core.features import FeatureSet
from synth_core.models import Autoencoder, build_model, model_class
from synth_core.data.scaling import FeatureTransform, load_transform
from synth_core.training.config import (CONFIG_FILE, HISTORY_FILE, METRICS_FILE, SCALER_FILE,
                                        SPLIT_FILE, WEIGHTS_FILE, TrainConfig)
from synth_core.devices import resolve_device
from synth_core.training.trainer import one_hot
from synth_core.workspace import Damaged, Workspace, newer_version, read_json

logger = logging.getLogger(__name__)
_CHUNK = 8192  # rows per forward pass
# Absent from runs of older versions: they load, and sample with what they have.
_OPTIONAL_STATE = {"log_sigma", "output_calibrated", "class_log_sigma"}


@dataclass
class Run:
    """A trained model with its scaler, config, history and metrics."""

    run_dir: Path
    config: TrainConfig
    scaler: FeatureTransform  # the run's feature transform (min-max, standard, quantile)
    model: Autoencoder
    n_features: int
    class_names: list[str]
    dataset_ref: str
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    device: torch.device = torch.device("cpu")

    @property
    def is_conditional(self) -> bool:
        return self.model.is_conditional

    @property
    def is_variational(self) -> bool:
        return self.model.is_variational

    @property
    def latent_dim(self) -> int:
        return int(self.model.config.latent_dim)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def test_folds(self) -> tuple[int, ...]:
        """Folds of the dataset left out of training and validation (empty: none)."""
        folds = self.meta.get("test_folds", self.config.test_folds)
        return tuple(int(f) for f in folds or ())

    @property
    def derived(self) -> dict[str, Any]:
        """The options that were derived from the data (option -> value) when it was trained."""
        return dict(self.meta.get("derived") or {})

    def seen_index(self) -> np.ndarray:
        """Sorted row positions of the dataset the model learned from or was validated on.

        Held-out rows (the test folds) are not among them. Raises StorageError when
        the run folder has no split.json (then which rows it saw is unknown).
        """
        split = self.split()
        if "train_index" not in split:
            raise StorageError(f"run {self.name} has no {SPLIT_FILE}, so the rows it was trained "
                               "on are unknown; train it again to record them")
        rows = list(split.get("train_index") or []) + list(split.get("val_index") or [])
        return np.unique(np.asarray(rows, dtype=np.int64))

    def held_out_index(self) -> np.ndarray:
        """Sorted row positions of the held-out test folds (never seen in training)."""
        return np.asarray(sorted(self.split().get("held_out_index") or []), dtype=np.int64)

    @property
    def modality(self) -> str:
        return str(self.meta.get("modality", "tabular"))

    @property
    def feature_shape(self) -> list[int] | None:
        return self.meta.get("feature_shape")

    @classmethod
    def load(cls, run_dir: str | Path, *, device: str = "cpu", expect_model: str | None = None,
             expect_features: int | None = None) -> "Run":
        """Rebuild the model from ``config.json`` and load its weights.

        ``expect_model`` / ``expect_features`` refuse a run of another kind or
        feature size with a message saying so.
        """
        run_dir = Path(run_dir)
        if run_dir.is_dir() and not (run_dir / CONFIG_FILE).is_file() and any(
                (run_dir / name).exists() for name in (WEIGHTS_FILE, SCALER_FILE, HISTORY_FILE,
                                                       METRICS_FILE, SPLIT_FILE)):
            _damaged(run_dir, f"{CONFIG_FILE} is missing: the run was not saved completely "
                              "(half-written)")
        try:
            meta = read_json(run_dir / CONFIG_FILE) if run_dir.is_dir() else None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            _damaged(run_dir, f"{CONFIG_FILE} is not valid JSON ({_first_line(exc)}; cut short?)")
        if meta is None:
            raise StorageError(f"{run_dir} is not a saved training run (no {CONFIG_FILE}); pick "
                               "a folder under the workspace's runs/ or train a model first")
        if not isinstance(meta, dict):
            _damaged(run_dir, f"{CONFIG_FILE} holds {type(meta).__name__}, not a run config")
        if newer_version(meta.get("synth_core_version", ""), __version__):
            _damaged(run_dir, f"saved by synth_core {meta['synth_core_version']}, newer than "
                              f"this {__version__}", fix="update synth_core to read it, or remove "
                              "the folder")
        try:
            kind = meta["model"]
            config = TrainConfig.from_dict(_with_old_defaults(meta["train_config"]))
            mconfig = model_class(kind).config_class(**meta["model_config"])
            n_features = int(meta["n_features"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            _damaged(run_dir, f"{CONFIG_FILE} is not a run config this version understands "
                              f"({_first_line(exc)})")
        if expect_model is not None and kind != expect_model:
            raise InputError(f"{run_dir} holds a {kind} model, not a {expect_model}; pick a "
                             f"{expect_model} run or train one")
        if expect_features is not None and n_features != int(expect_features):
            raise InputError(f"{run_dir} was trained on {n_features} features, but this data has "
                             f"{expect_features}; pick a run trained on data of this width")
        torch_device = resolve_device(device)
        weights = run_dir / str(meta.get("weights") or WEIGHTS_FILE)
        if not weights.is_file():
            _damaged(run_dir, f"the weights file {weights.name} is missing (half-written run)")
        try:
            model = build_model(kind, mconfig)
        except (InputError, TypeError, ValueError) as exc:
            _damaged(run_dir, f"{CONFIG_FILE} describes a model this version cannot build "
                              f"({_first_line(exc)})")
        try:
            state = torch.load(weights, map_location=torch_device, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
            _damaged(run_dir, f"{weights.name} is not a PyTorch checkpoint "
                              f"({type(exc).__name__}: {_first_line(exc)})")
        try:
            if not isinstance(state, dict):
                raise TypeError(f"holds {type(state).__name__}, not a state_dict")
            missing, unexpected = model.load_state_dict(state, strict=False)
            # Runs saved before calibrated decoders lack the output-spread buffers: they load,
            # decode as before, and only refuse sample_output (can_sample_output is False).
            wrong = sorted(set(missing) - _OPTIONAL_STATE) + sorted(unexpected)
            if wrong:
                raise KeyError(f"state_dict keys that do not fit: {', '.join(wrong[:5])}")
        except (RuntimeError, KeyError, TypeError) as exc:
            _damaged(run_dir, f"the weights in {weights.name} do not fit the {kind} model its "
                              f"{CONFIG_FILE} describes ({n_features} features, latent "
                              f"{mconfig.latent_dim}, hidden {list(mconfig.hidden)}): they belong "
                              f"to another shape ({_state_dict_problem(exc)})")
        model.to(torch_device).eval()
        try:
            scaler = load_transform(run_dir / SCALER_FILE)
        except (InputError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError,
                ValueError, AttributeError) as exc:
            _damaged(run_dir, f"{SCALER_FILE} cannot be read ({_first_line(exc)})")
        if scaler.n_features != n_features:
            _damaged(run_dir, f"{SCALER_FILE} has {scaler.n_features} features but the model "
                              f"{n_features}")
        return cls(run_dir=run_dir, config=config, scaler=scaler, model=model,
                   n_features=n_features, class_names=list(meta.get("class_names") or []),
                   dataset_ref=str(meta.get("dataset_ref", "")),
                   history=_read_optional(run_dir / HISTORY_FILE, list),
                   metrics=_read_optional(run_dir / METRICS_FILE, dict), meta=meta,
                   device=torch_device)

    # ------------------------------------------------------------------ checks
    def check_data(self, data: FeatureSet, *, name: str = "dataset") -> None:
        """Refuse data of another width (or, for a CVAE, labels the run does not know)."""
        self._check_width(data.features, name)
        if self.is_conditional:
            self._labels(data.labels, data.n_samples)

    def _check_width(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise InputError(f"{name} has shape {list(X.shape)} but run {self.name} was trained "
                             f"on {self.n_features} features; use data of that width or a run "
                             "trained on this data")
        return X

    def _labels(self, labels: np.ndarray | None, n: int) -> torch.Tensor | None:
        if not self.is_conditional:
            return None
        if labels is None:
            raise InputError(f"run {self.name} is a conditional VAE: give a class (0.."
                             f"{self.n_classes - 1}) for every row")
        labels = np.asarray(labels, dtype=np.int64)
        if labels.ndim == 0:  # one class for every row
            labels = np.full(n, int(labels), dtype=np.int64)
        labels = labels.reshape(-1)
        if labels.shape[0] != n:
            raise InputError(f"labels has {labels.shape[0]} entries for {n} rows; give one "
                             "class per row")
        if n and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise InputError(f"labels must be classes 0..{self.n_classes - 1} of run "
                             f"{self.name} ({', '.join(self.class_names)}); got values "
                             f"{int(labels.min())}..{int(labels.max())}")
        return one_hot(labels, self.n_classes, self.device)

    # ------------------------------------------------------------------ use
    @torch.no_grad()
    def encode(self, X: np.ndarray, labels: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Raw-scale X [N, D] -> (mu, logvar) [N, latent].

        Deterministic models (ae, dae) have no variance: their logvar is -inf
        (so ``mu + exp(logvar / 2) * eps`` is exactly ``mu``).
        """
        X = self._check_width(X)
        Y = self._labels(labels, X.shape[0])
        scaled = self.scaler.transform(X)
        if self.model.bounded_output:  # the thesis decoders' [0, 1], as in training
            scaled = np.clip(scaled, 0.0, 1.0)
        mus, logvars = [], []
        self.model.eval()
        for start in range(0, X.shape[0], _CHUNK):
            xb = torch.as_tensor(scaled[start:start + _CHUNK], device=self.device)
            yb = Y[start:start + _CHUNK] if Y is not None else None
            mu, logvar = self.model.encode(xb, yb)
            mus.append(mu.cpu().numpy())
            logvars.append(logvar.cpu().numpy() if logvar is not None
                           else np.full(mu.shape, -np.inf, dtype=np.float32))
        if not mus:
            empty = np.zeros((0, self.latent_dim), dtype=np.float32)
            return empty, empty.copy()
        return np.concatenate(mus), np.concatenate(logvars)

    @property
    def can_sample_output(self) -> bool:
        """Whether :meth:`decode` can draw from the decoder distribution (``sample=True``)."""
        return self.model.can_sample_output

    @property
    def has_class_spread(self) -> bool:
        """Whether decoder draws of a known class use that class's own output spread."""
        return bool(getattr(self.model, "has_class_spread", False))

    @torch.no_grad()
    def decode(self, Z: np.ndarray, labels: np.ndarray | None = None, *, sample: bool = False,
               generator: torch.Generator | None = None,
               classes: np.ndarray | None = None) -> np.ndarray:
        """Codes Z [N, latent] -> raw-scale features [N, D].

        ``sample=False`` gives the decoded mean; ``sample=True`` a draw from the
        decoder distribution around it (``Autoencoder.sample_output``, repeatable
        with a ``generator`` on the run's device), with each row's class's spread
        where ``classes`` [N] names them (-1: none) and the model measured them.
        """
        Z = np.asarray(Z, dtype=np.float32)
        if Z.ndim != 2 or Z.shape[1] != self.latent_dim:
            raise InputError(f"Z has shape {list(Z.shape)} but run {self.name} has a "
                             f"{self.latent_dim}-d latent space; give [rows, {self.latent_dim}]")
        Y = self._labels(labels, Z.shape[0])
        C = None
        if sample and classes is not None:
            C = torch.as_tensor(np.asarray(classes, dtype=np.int64).reshape(-1),
                                device=self.device)
            if len(C) != Z.shape[0]:
                raise InputError(f"classes has {len(C)} entries for {Z.shape[0]} codes; give "
                                 "one class (or -1) per code")
        self.model.eval()
        out = []
        for start in range(0, Z.shape[0], _CHUNK):
            zb = torch.as_tensor(Z[start:start + _CHUNK], device=self.device)
            yb = Y[start:start + _CHUNK] if Y is not None else None
            mean = self.model.decode(zb, yb)
            if sample:
                mean = self.model.sample_output(
                    mean, generator=generator,
                    classes=C[start:start + _CHUNK] if C is not None else None)
            out.append(mean.cpu().numpy())
        scaled = np.concatenate(out) if out else np.zeros((0, self.n_features), np.float32)
        return self.scaler.inverse_transform(scaled)

    def reconstruct(self, X: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Raw-scale X -> encode to the mean code -> decode, raw scale [N, D]."""
        mu, _ = self.encode(X, labels)
        return self.decode(mu, labels)

    def split(self) -> dict[str, list[int]]:
        """Row positions of the training and validation rows in the dataset it was trained on."""
        return read_json(self.run_dir / SPLIT_FILE, {}) or {}


def _with_old_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """A saved train_config with the options runs of older versions did not record: those
    runs used the thesis decoders on min-max scaled features and held no rows out."""
    if not isinstance(values, dict):
        raise TypeError(f"train_config holds {type(values).__name__}, not an object")
    return {"decoder": "thesis", "transform": "minmax", "test_folds": [], **values}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:200] if text else type(exc).__name__)


def _state_dict_problem(exc: BaseException) -> str:
    """The first concrete line of load_state_dict's error (e.g. 'size mismatch for ...')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = next((line for line in lines[1:]), lines[0] if lines else type(exc).__name__)
    return detail[:240]


def _damaged(run_dir: Path, reason: str, *, fix: str | None = None):
    """Raise :class:`DamagedError` for ``run_dir`` with the way to remove it."""
    fix = fix or "train again, and remove the folder"
    raise DamagedError(Damaged("run", run_dir, reason, f"{fix} (Remove button on the pages, or "
                                                       f"`python -m synth_core check --remove "
                                                       f"{run_dir}`)")) from None


def _read_optional(path: Path, kind: type) -> Any:
    """history.json / metrics.json: informative only, so a damaged one reads as empty."""
    try:
        value = read_json(path, kind())
    except (json.JSONDecodeError, UnicodeDecodeError):
        logger.warning("%s is not valid JSON; shown as empty", path)
        return kind()
    return value if isinstance(value, kind) else kind()


def _signature(run_dir: Path) -> tuple:
    """What changes when a run folder is rewritten: names, sizes and mtimes of its files."""
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                            for p in run_dir.iterdir() if p.is_file()))
    except OSError:
        return ()


@functools.lru_cache(maxsize=512)
def _check_cached(run_dir: str, signature: tuple) -> Damaged | None:
    try:
        Run.load(run_dir, device="cpu")
    except DamagedError as exc:
        return exc.damaged
    except StorageError:  # no config.json and no run files: something else under runs/
        return Damaged("run", Path(run_dir), f"not a saved training run (no {CONFIG_FILE}, no "
                       "weights)", f"move it out of runs/ or remove it (`python -m synth_core "
                       f"check --remove {run_dir}`)")
    return None


def check_run(run_dir: str | Path) -> Damaged | None:
    """None when ``run_dir`` loads (config, weights of the right shape, scaler), else why not.

    Loads the run once per change of its files (remembered by names, sizes and
    mtimes), so pages can call it on every rerun.
    """
    run_dir = Path(run_dir)
    return _check_cached(str(run_dir), _signature(run_dir))


def scan_runs(workspace: Workspace) -> tuple[list[Path], list[Damaged]]:
    """Run folders that load, newest first, and the damaged ones beside them.

    An empty folder is a run being trained (reserved by its job) and a hidden
    ``.*.partial`` folder one being saved: neither is listed. Nothing is removed.
    """
    good: list[Path] = []
    damaged: list[Damaged] = []
    if not workspace.runs_dir.is_dir():
        return good, damaged
    for run_dir in workspace.runs_dir.iterdir():
        if run_dir.name.startswith(".") or not run_dir.is_dir() or not any(run_dir.iterdir()):
            continue
        problem = check_run(run_dir)
        if problem is None:
            good.append(run_dir)
        else:
            damaged.append(problem)
    good.sort(key=lambda p: (p / CONFIG_FILE).stat().st_mtime, reverse=True)
    damaged.sort(key=lambda d: d.path.name)
    return good, damaged


@dataclass(frozen=True)
class RunSummary:
    """One row of the run list: what was trained on what, and how well."""

    run_dir: str
    name: str
    model: str
    dataset_ref: str
    created: str
    latent_dim: int
    hidden: list[int]
    lr: float
    batch_size: int
    epochs_run: int
    best_val_loss: float | None
    seconds_per_epoch: float | None
    stopped_early: bool
    diverged: bool
    psnr_db: float | None = None
    decoder: str = "thesis"        # runs of older versions: the thesis decoders on min-max data
    transform: str = "minmax"
    active_units: int | None = None  # latent units the model uses (collapse check)

    def as_row(self) -> dict[str, Any]:
        return {"run": self.name, "model": self.model, "dataset": self.dataset_ref,
                "latent": self.latent_dim, "hidden": ",".join(map(str, self.hidden)),
                "lr": self.lr, "batch": self.batch_size, "epochs": self.epochs_run,
                "best val loss": self.best_val_loss, "s/epoch": self.seconds_per_epoch,
                "PSNR dB": self.psnr_db, "decoder": self.decoder, "transform": self.transform,
                "active units": self.active_units, "early stop": self.stopped_early,
                "diverged": self.diverged, "created": self.created}


def run_summaries(workspace: Workspace, *, model: str | None = None,
                  dataset_ref: str | None = None) -> list[RunSummary]:
    """Finished runs of the workspace, newest first (reads JSON only, no weights)."""
    rows = []
    for run_dir in workspace.list_runs():
        try:
            meta = read_json(run_dir / CONFIG_FILE) or {}
            metrics = read_json(run_dir / METRICS_FILE, {}) or {}
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            logger.warning("skipping unreadable run folder %s", run_dir)
            continue
        if not isinstance(meta, dict) or not isinstance(metrics, dict):
            logger.warning("skipping run folder %s: config.json is not a run config", run_dir)
            continue
        cfg = meta.get("train_config") or {}
        if model is not None and meta.get("model") != model:
            continue
        if dataset_ref is not None and meta.get("dataset_ref") != dataset_ref:
            continue
        rows.append(RunSummary(
            run_dir=str(run_dir), name=run_dir.name, model=str(meta.get("model", "?")),
            dataset_ref=str(meta.get("dataset_ref", "")), created=str(meta.get("created", "")),
            latent_dim=int(cfg.get("latent_dim", 0)), hidden=list(cfg.get("hidden", [])),
            lr=float(cfg.get("lr", 0.0)), batch_size=int(cfg.get("batch_size", 0)),
            epochs_run=int(metrics.get("epochs_run", 0)),
            best_val_loss=metrics.get("best_val_loss"),
            seconds_per_epoch=metrics.get("seconds_per_epoch"),
            stopped_early=bool(metrics.get("stopped_early", False)),
            diverged=bool(metrics.get("diverged", False)), psnr_db=metrics.get("psnr_db"),
            decoder=str(cfg.get("decoder", "thesis")),
            transform=str(cfg.get("transform", "minmax")),
            active_units=(metrics.get("collapse") or {}).get("active_units")))
    return rows


@dataclass(frozen=True)
class Reconstructions:
    """Rows of a dataset next to their reconstructions (raw scale), for a side-by-side view."""

    index: np.ndarray      # [n] row positions in the dataset
    original: np.ndarray   # [n, D]
    reconstructed: np.ndarray  # [n, D]
    labels: np.ndarray     # [n]
    mse: float             # mean squared error per value, raw scale


def reconstruction_examples(run: Run, data: FeatureSet, *, n_samples: int = 8,
                            random_state: int = 0) -> Reconstructions:
    """``n_samples`` validation rows (training rows when there are none), one class after another."""
    run.check_data(data)
    split = run.split()
    pool = np.asarray(split.get("val_index") or split.get("train_index") or
                      np.arange(data.n_samples), dtype=np.int64)
    pool = pool[pool < data.n_samples]
    rng = np.random.default_rng(random_state)
    # Round-robin over classes so every class shows up when there are enough rows.
    by_class = [rng.permutation(pool[data.labels[pool] == c]) for c in np.unique(data.labels[pool])]
    picked: list[int] = []
    for i in range(max((len(rows) for rows in by_class), default=0)):
        picked += [int(rows[i]) for rows in by_class if i < len(rows)]
        if len(picked) >= n_samples:
            break
    index = np.asarray(picked[:n_samples], dtype=np.int64)
    labels = data.labels[index]
    original = data.features[index]
    reconstructed = run.reconstruct(original, labels if run.is_conditional else None)
    mse = float(np.mean((original - reconstructed) ** 2)) if len(index) else float("nan")
    return Reconstructions(index, original, reconstructed, labels, mse)


@dataclass(frozen=True)
class LatentPoints:
    """Latent means of dataset rows in 2-D (PCA when the latent space is larger)."""

    xy: np.ndarray         # [n, 2]
    labels: np.ndarray     # [n]
    index: np.ndarray      # [n] row positions in the dataset
    method: str            # "latent" (already 2-D or 1-D) or "pca"
    explained: list[float] = field(default_factory=list)  # PCA explained variance ratios


def latent_points(run: Run, data: FeatureSet, *, rows: str = "train", max_points: int = 3000,
                  random_state: int = 0) -> LatentPoints:
    """Encode ``rows`` ("train", "val" or "all") of ``data`` to their means and map them to 2-D."""
    run.check_data(data)
    split = run.split()
    if rows == "all" or not split:
        index = np.arange(data.n_samples)
    else:
        index = np.asarray(split.get(f"{rows}_index") or [], dtype=np.int64)
        index = index[index < data.n_samples]
    if len(index) > max_points:
        index = np.sort(np.random.default_rng(random_state).choice(index, max_points,
                                                                   replace=False))
    labels = data.labels[index]
    mu, _ = run.encode(data.features[index], labels if run.is_conditional else None)
    if mu.shape[1] > 2 and len(index) >= 2:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=random_state).fit(mu)
        return LatentPoints(pca.transform(mu).astype(np.float32), labels, index, "pca",
                            [float(v) for v in pca.explained_variance_ratio_])
    xy = np.zeros((len(index), 2), dtype=np.float32)
    xy[:, :min(2, mu.shape[1])] = mu[:, :2]
    return LatentPoints(xy, labels, index, "latent")
