"""Training: one loop for every model in the registry, and the run folder it writes.

:class:`TrainConfig` is the currency between the page, the CLI and Optuna;
:func:`train_model` fits any model of :data:`synth_core.models.MODELS` on a
:class:`~synth_core.features.FeatureSet`:

* the options left None (latent size, hidden size, batch size, validation
  share, test folds) are derived from the data by
  :func:`synth_core.training.defaults.plan_training`, which also splits the
  rows: the dataset's test folds are held out (never trained or validated on),
  the rest split into training and validation rows;
* features go through the config's transform (min-max, standardisation or
  quantile-to-normal) fitted on the training rows only;
* the whole split lives as tensors on the device (GPU when there is one), an
  epoch is one index permutation and slices of it: no DataLoader, no per-row
  Python work, and losses are summed on the device (one sync per epoch);
* Adam, a validation split (stratified when labelled), early stopping on the
  validation loss with patience, keeping the best weights; a loss that turns
  NaN stops training and keeps the last good weights;
* an :class:`~synth_core.events.EpochEnd` event every epoch. Exceptions the
  callback raises (``JobCancelled``, ``optuna.TrialPruned``) propagate;
* after training, the decoder's output spread is calibrated on the training
  rows (saved with the weights) and a collapse check runs: KL per latent unit
  and the spread of rows decoded from the prior against the real spread, with
  warnings saying what to change (``metrics["collapse"]``).

With ``run_dir`` the run is saved as a folder (``config.json``, ``model.pt``
state_dict, ``history.json``, ``scaler.json``, ``metrics.json``,
``split.json``), written into a hidden temporary folder that is renamed at the
end, with ``config.json`` written last: a full disk never leaves a half-written
run that looks complete. :class:`synth_core.training.runs.Run` loads it again.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from synth_core import __version__
from synth_core.devices import resolve_device
from synth_core.errors import InputError, StorageError
from synth_core.evaluation.metrics import CopyCheck, copy_figures, copy_fixes, near_copies
from synth_core.events import Callback, EpochEnd, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.models import MODELS, Autoencoder, build_model, model_config
from synth_core.models.base import CLOSED_FORM_DECODERS, kl_per_unit
from synth_core.training.config import (CONFIG_FILE, HISTORY_FILE, METRICS_FILE, RUN_FORMAT,
                                        SCALER_FILE, SPLIT_FILE, WEIGHTS_FILE, TrainConfig,
                                        kl_weight)
from synth_core.training.defaults import TrainPlan, plan_training
from synth_core.data.scaling import FeatureTransform, make_transform
from synth_core.workspace import Workspace, atomic_write_json, get_workspace, safe_name

logger = logging.getLogger(__name__)

_EVAL_CHUNK = 8192  # rows per forward pass when evaluating (bounds memory on big data)
# Below this many (rows x parameters) per batch, CPU training runs on one thread. Such small
# matrix products gain little from a second thread, and on a machine busy with other work
# the threads' synchronisation is ruinous: batch 12 of the thesis VAE (550k parameters) on 2
# shared cores took ~2 s/epoch on 1 thread and 14-80 s on 2 (benchmarks/train.py). The choice
# depends only on the shapes, so a seeded run still repeats exactly.
SMALL_BATCH_WORK = 20_000_000
# Collapse check: a latent unit whose mean KL is below this carries no information (the
# usual "active unit" threshold is 0.01 nats), and generated rows whose per-feature spread
# is below this share of the real spread look like class prototypes; above HIGH_SPREAD_RATIO
# (as far from 1 on a log scale) they are noise more than data.
ACTIVE_UNIT_NATS = 0.01
LOW_SPREAD_RATIO = 0.5
HIGH_SPREAD_RATIO = 1.0 / LOW_SPREAD_RATIO
# An epoch whose training loss exceeds the lowest so far by this many times its size (at
# least 1) marks the run as unstable: finite, so not diverged, but the weights were thrown
# far off (a 12,864-feature spectrogram set went from 1e4 to 1e21 and back).
UNSTABLE_JUMP = 1e3
_PRIOR_SAMPLES = 2000  # rows decoded from the prior for the spread check
# Made rows that a classifier of the training rows (class_agreement) gives their own class
# less often than this share of its cross-validated accuracy on the training rows lose the
# classes: crabs' default VAE (5 features, classes told apart by ratios of sizes) kept
# them for 0.59-0.65 of that, and trained an MLP to 0.56 against the real rows' 0.96.
CLASS_AGREEMENT_WARNING = 0.8
CLASS_NEIGHBOURS = 5
CLASS_MIN_ROWS = 5  # fewer rows in a class: no class check (folds of 3 would hold 1-2 of them)
CLASS_COMPONENTS = 64  # the linear judge of wider rows works on this many principal components


@dataclass
class TrainResult:
    """What a training run produced (``model`` holds the best weights, on the device)."""

    run_dir: Path | None
    epochs_run: int
    best_val_loss: float
    seconds_per_epoch: float
    history: list[dict]
    stopped_early: bool
    diverged: bool
    best_epoch: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    model: Autoencoder | None = None
    scaler: FeatureTransform | None = None
    config: TrainConfig | None = None      # the config with every derived value filled in
    derived: dict[str, Any] = field(default_factory=dict)  # option -> value derived from data

    @property
    def warnings(self) -> list[str]:
        return run_warnings(self.metrics)

    def summary(self) -> dict[str, Any]:
        """The JSON summary the CLI prints and the train job returns."""
        collapse = self.metrics.get("collapse", {})
        return {"run_dir": str(self.run_dir), "epochs_run": self.epochs_run,
                "best_epoch": self.best_epoch, "best_val_loss": self.best_val_loss,
                "seconds_per_epoch": self.seconds_per_epoch, "stopped_early": self.stopped_early,
                "diverged": self.diverged, "derived": dict(self.derived),
                "test_folds": list(self.config.test_folds or ()) if self.config else [],
                "active_units": collapse.get("active_units"),
                # What the warnings judge: the rows Generate makes (their spread, and how
                # near they sit to training rows); spread_ratio is the prior's mean rows.
                "spread_ratio_generated": collapse.get("spread_ratio_generated"),
                "copy_ratio": collapse.get("copy_ratio"),
                # Share of made rows a classifier of the training rows gives their own class, and
                # that classifier's cross-validated accuracy on the training rows.
                "class_agreement": collapse.get("class_agreement"),
                "class_agreement_real": collapse.get("class_agreement_real"),
                "spread_ratio": collapse.get("spread_ratio"), "warnings": self.warnings}


# ----------------------------------------------------------------------------- helpers
def unstable_message(unstable: dict[str, Any]) -> str:
    """The warning for ``metrics["unstable"]`` (the first loss jump of a run)."""
    return (f"training was unstable: the training loss jumped from {unstable['before']:.4g} to "
            f"{unstable['loss']:.4g} in epoch {unstable['epoch']}, so the kept weights may be "
            f"poor; train again with a lower learning rate (--lr {unstable['lr'] / 3:.2g}, now "
            f"{unstable['lr']:g}) or a larger batch (--batch-size)")


def run_warnings(metrics: dict[str, Any]) -> list[str]:
    """A run's warnings from its metrics: a jump of the training loss first, then the
    collapse check's (the CLI summary and the Train page show the same list)."""
    unstable = metrics.get("unstable")
    return ([unstable_message(unstable)] if unstable else []) + list(
        (metrics.get("collapse") or {}).get("warnings") or [])


def one_hot(labels: np.ndarray, n_classes: int, device: torch.device) -> torch.Tensor:
    """int labels [N] -> float one-hot [N, K] on ``device``."""
    index = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=device)
    return torch.nn.functional.one_hot(index, n_classes).float()


def check_training_data(data: FeatureSet, config: TrainConfig, *,
                        name: str = "dataset") -> TrainPlan:
    """Refuse data the model cannot learn from, naming the problem and the fix.

    Returns the plan (:func:`~synth_core.training.defaults.plan_training`): the
    config with its derived values, and the row split.
    """
    if data.n_samples == 0:
        raise InputError(f"{name} has no rows; pick a dataset with data")
    data.check_finite(f"{name} features")
    plan = plan_training(data, config, name=name)
    # Unlabelled rows are counted in the whole dataset, as the user knows it.
    unlabeled, n_rows = int((data.labels < 0).sum()), data.n_samples
    if len(plan.held_out_index):
        data = data.subset(plan.seen_index)  # the class checks apply to the rows it learns from
    if MODELS[config.model].is_conditional:
        if unlabeled:
            raise InputError(f"{name}: the conditional VAE (cvae) needs a class for every row, "
                             f"but {unlabeled} of {n_rows} rows are unlabeled; label "
                             "them (Data step) or train a vae")
        present = np.unique(data.labels)
        if len(present) < 2 or data.n_classes < 2:
            raise InputError(f"{name}: the conditional VAE (cvae) needs at least two classes, "
                             f"found {len(present)}; use a dataset with several classes or "
                             "train a vae")
        if int(present.max()) >= data.n_classes:
            raise InputError(f"{name}: label {int(present.max())} has no class name (only "
                             f"{data.n_classes} classes named); fix the labels or class_names")
    # The model's own shape rules (an fcn code a multiple of its grid, no hidden layers...)
    # before any job starts: the Train page checks here, and a job failed in the background.
    _model_config(data, plan.config, data.n_classes if MODELS[config.model].is_conditional else 0)
    return plan


def _model_config(data: FeatureSet, config: TrainConfig, n_classes: int):
    """The model's config for ``data`` and a planned ``config`` (every value filled in)."""
    return model_config(config.model, n_features=data.n_features, n_classes=n_classes,
                        feature_shape=_feature_shape(data), latent_dim=config.latent_dim,
                        hidden=config.hidden, body=config.body, l1=config.l1,
                        noise_std=config.noise_std, decoder=config.decoder)


def _feature_shape(data: FeatureSet) -> tuple[int, ...] | None:
    shape = data.attrs.get("feature_shape")
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (int, np.integer))
                                                          for s in shape):
        return tuple(int(s) for s in shape)
    return None


def _state_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _chunks(X: torch.Tensor, Y: torch.Tensor | None
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(x [<=_EVAL_CHUNK, D], y [<=_EVAL_CHUNK, K] or None) slices of the rows."""
    for start in range(0, X.shape[0], _EVAL_CHUNK):
        yield (X[start:start + _EVAL_CHUNK],
               Y[start:start + _EVAL_CHUNK] if Y is not None else None)


@torch.no_grad()
def evaluate(model: Autoencoder, X: torch.Tensor, Y: torch.Tensor | None, *,
             kl_weight: float) -> torch.Tensor:
    """Mean (total, recon, kl) over rows in eval mode (code = mean), as a [3] device tensor."""
    model.eval()
    sums = torch.zeros(3, device=X.device)
    for xb, yb in _chunks(X, Y):
        sums += torch.stack(model.loss(xb, yb, kl_weight=kl_weight)) * xb.shape[0]
    return sums / max(X.shape[0], 1)


@torch.no_grad()
def _reconstruct(model: Autoencoder, X: torch.Tensor, Y: torch.Tensor | None) -> np.ndarray:
    """Eval-mode reconstructions (code = mean) of X [N, D], model units, as numpy [N, D]."""
    model.eval()
    out = [model.decode(model.encode(xb, yb)[0], yb).cpu().numpy() for xb, yb in _chunks(X, Y)]
    return np.concatenate(out) if out else np.zeros((0, X.shape[1]), dtype=np.float32)


@torch.no_grad()
def reconstruction_mse(model: Autoencoder, X: torch.Tensor, Y: torch.Tensor | None) -> float:
    """Mean squared error per value of eval-mode reconstructions (the model's units: the
    features after the run's transform)."""
    model.eval()
    total = torch.zeros((), device=X.device)
    for xb, yb in _chunks(X, Y):
        mu, _ = model.encode(xb, yb)
        total += (model.decode(mu, yb) - xb).pow(2).sum()
    return float(total) / max(X.numel(), 1)


def _labels_like(y_train: torch.Tensor | None, members: np.ndarray, n: int
                 ) -> torch.Tensor | None:
    """The one-hot label of ``members``' class for ``n`` rows [n, K] (None: no labels)."""
    return y_train[members[:1]].expand(n, -1) if y_train is not None else None


# Codes the spread check fits a CVAE's per-class mixtures on: 2,000 in all, at least 200 a
# class (10 components of 20). 10 classes of 708 codes took 3.4 s to fit, once per trial.
_MAX_MIXTURE_CODES, _MIN_MIXTURE_CODES = 2000, 200


def _generation_codes(codes: np.ndarray, labels: np.ndarray, groups: list[np.ndarray],
                      conditional: bool, n_samples: int,
                      code_std: np.ndarray | None = None) -> list[np.ndarray]:
    """Codes like those Generate decodes with no options, one array per group of ``groups``.

    A CVAE (a group per class): ``n_samples // len(groups)`` codes of each class, as
    ``generation.sampling``'s "auto" draws them: when every class has
    ``POSTERIOR_MIN_CLASS_ROWS`` training rows, one draw from the posterior (``codes`` the
    means, ``code_std`` the spreads) of random training rows of the class; else draws from
    a mixture fitted on the class's training codes (a sample of them on large data). A VAE
    (one group): points at uniform t on lines between a training code of a class and one
    of its nearest of the class (``sampling.near_partners``), classes in their training
    proportions; it also returns the class of each of those codes (a second list), whose
    output spread Generate draws them with.
    """
    from synth_core.generation.priors import CodeMixture
    from synth_core.generation.sampling import class_codes_prior, near_partners

    rng = np.random.default_rng(0)
    n = max(2, n_samples // max(len(groups), 1))
    if conditional and code_std is not None and groups and \
            class_codes_prior(min(len(members) for members in groups)) == "posterior":
        picks = [rng.choice(members, n, replace=True) for members in groups]
        return [codes[p] + code_std[p] * rng.standard_normal((n, codes.shape[1]))
                for p in picks]
    if conditional:
        out = []
        for members in groups:
            if len(members) < 2:
                out.append(np.zeros((0, codes.shape[1])))
                continue
            cap = max(_MIN_MIXTURE_CODES, _MAX_MIXTURE_CODES // len(groups))
            take = rng.choice(members, cap, replace=False) if len(members) > cap else members
            out.append(CodeMixture().fit(codes[take]).sample(n, random_state=0)[0])
        return out
    made, made_classes = [], []
    classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    classes = [rows for rows in classes if len(rows) >= 2]
    for rows in classes:
        m = max(1, round(n * len(rows) / sum(len(r) for r in classes)))
        a = rng.integers(0, len(rows), m)
        b = near_partners(codes[rows], a, rng)      # one of the row's nearest of the class
        t = rng.uniform(0.0, 1.0, (m, 1))
        made.append(codes[rows[a]] + (codes[rows[b]] - codes[rows[a]]) * t)
        made_classes.append(np.full(m, labels[rows[0]], dtype=np.int64))
    if not made:
        return [np.zeros((0, codes.shape[1]))], [np.zeros(0, dtype=np.int64)]
    return [np.concatenate(made)], [np.concatenate(made_classes)]


def made_copy_check(train: np.ndarray, made: np.ndarray, *, max_reference: int = 5000,
                    max_queries: int = 1000, seed: int = 0) -> CopyCheck | None:
    """The scorecard's copy check (:func:`~synth_core.evaluation.metrics.copy_check`) of made
    rows against the training rows, in the model's units; its ``distance_ratio`` is the
    median distance from a made row to its nearest training row over the median distance
    from a training row to its nearest different one. About 1 or more: new rows; well
    below: near-copies (:func:`~synth_core.evaluation.metrics.near_copies` judges, against
    the training rows' own figures where they repeat rows). None with fewer than 2
    different training rows or none made. Tables of up to ``max_reference`` rows are
    searched whole, where a model can learn its rows; beyond, a seeded subsample of that
    size is the reference for both sides alike."""
    from synth_core.evaluation.metrics import copy_check

    if len(train) > max_reference:
        train = train[np.random.default_rng(seed).choice(len(train), max_reference,
                                                         replace=False)]
    if len(train) < 2 or not len(made):
        return None
    check = copy_check(train, made, max_reference_rows=max_queries, random_state=seed)
    return check if np.isfinite(check.distance_ratio) else None  # NaN: one distinct row


def class_agreement(train: np.ndarray, labels: np.ndarray, made: np.ndarray,
                    made_labels: np.ndarray, *, max_rows: int = 1000,
                    seed: int = 0) -> tuple[float, float] | None:
    """Do made rows keep their class? (share of ``made`` rows that a classifier of the
    training rows gives the class they were made for, the same classifier's cross-validated
    accuracy on the training rows); None with fewer than 2 classes or a class of fewer than
    :data:`CLASS_MIN_ROWS` rows, too few to cross-validate a classifier on. The classifier is whichever tells the real classes apart better:
    :data:`CLASS_NEIGHBOURS`-nearest neighbours (local structure) or a shrinkage linear
    discriminant (classes told apart by a direction, as crabs' species by ratios of sizes,
    where neighbours read 0.67-0.77 and the discriminant 0.85-0.91), on at most
    :data:`CLASS_COMPONENTS` principal components of wide rows. At most ``max_rows`` of each
    side (seeded), 3-fold, in the model's units: 0.4-0.8 s on 1,000 rows of 512 or 784
    features with two benchmarks running, 0.05 s on a small table."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline

    keep = labels >= 0
    train, labels = train[keep], labels[keep]
    rng = np.random.default_rng(seed)
    if len(train) > max_rows:
        pick = rng.choice(len(train), max_rows, replace=False)
        train, labels = train[pick], labels[pick]
    if len(made) > max_rows:
        pick = rng.choice(len(made), max_rows, replace=False)
        made, made_labels = made[pick], made_labels[pick]
    counts = np.unique(labels, return_counts=True)[1]
    if len(counts) < 2 or counts.min() < CLASS_MIN_ROWS or not len(made):
        return None
    folds = 3
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    fold_rows = len(train) - -(-len(train) // folds)  # the fewest rows a fold trains on
    linear = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    components = min(CLASS_COMPONENTS, fold_rows - 1)
    if train.shape[1] > components:
        linear = make_pipeline(PCA(components, random_state=seed), linear)
    judges = [KNeighborsClassifier(n_neighbors=min(CLASS_NEIGHBOURS, fold_rows)), linear]
    scored = [(float(cross_val_score(judge, train, labels, cv=cv).mean()), i)
              for i, judge in enumerate(judges)]
    real, best = max(scored)
    made_score = float(np.mean(judges[best].fit(train, labels).predict(made) == made_labels))
    return made_score, real


def _codes_from(model: Autoencoder, groups: list[np.ndarray]) -> str:
    """Where the rows Generate makes by class take their codes, for a warning's words."""
    from synth_core.generation.sampling import class_codes_prior

    if not model.is_conditional:
        return "lines between neighbouring training codes of a class"
    if groups and class_codes_prior(min(len(g) for g in groups)) == "posterior":
        return "the posterior of random training rows of each class"
    return "each class's mixture of training codes"


@torch.no_grad()
def collapse_report(model: Autoencoder, x_train: torch.Tensor, y_train: torch.Tensor | None,
                    labels: np.ndarray, scaler: FeatureTransform, *,
                    generator: torch.Generator | None = None,
                    n_samples: int = _PRIOR_SAMPLES) -> dict[str, Any]:
    """Does the model use its code, and do rows drawn from it spread like the real ones?

    ``kl_per_unit``: KL(q(z_j|x) || N(0, 1)) per latent unit, mean over the
    training rows (nats); ``active_units``: units above ACTIVE_UNIT_NATS.
    ``spread_ratio``: median over features of std(generated) / std(real), raw
    scale, generated rows being decoded means of prior codes; within each class
    for a conditional model (median over classes), since the spread between
    classes would hide a collapse onto class prototypes. ``spread_ratio_sampled``
    is the same for rows drawn from the decoder distribution.
    ``spread_ratio_generated`` is the same for the rows Generate makes with no
    options, which is what the warning judges: a CVAE's codes drawn from the posterior
    of random training rows of a class, or from each class's mixture of training codes
    (:class:`~synth_core.generation.priors.CodeMixture`) when a class has few rows
    (:func:`_generation_codes`), a VAE's codes on lines between neighbouring training
    codes of a class,
    then the decoder's draws where it has them. N(0, I) codes can read 0.56x on
    a model whose generated rows spread 0.99x (``benchmarks/quality.py --folds``).
    Deterministic models (ae, dae) have no prior: only ``warnings`` (empty) is
    reported.
    """
    report: dict[str, Any] = {"warnings": []}
    if not model.is_variational:
        return report
    model.eval()
    total = torch.zeros(model.config.latent_dim, device=x_train.device)
    means, stds = [], []
    for xb, yb in _chunks(x_train, y_train):
        mu, logvar = model.encode(xb, yb)
        total += kl_per_unit(mu, logvar) * xb.shape[0]
        means.append(mu.cpu().numpy())
        stds.append(torch.exp(0.5 * logvar).cpu().numpy())
    per_unit = (total / max(x_train.shape[0], 1)).tolist()
    active = sum(v > ACTIVE_UNIT_NATS for v in per_unit)
    report.update(kl_per_unit=[round(v, 6) for v in per_unit], active_units=int(active),
                  latent_dim=int(model.config.latent_dim), active_threshold=ACTIVE_UNIT_NATS)
    real = scaler.inverse_transform(x_train.cpu().numpy())                     # [N, D] raw
    groups = ([np.flatnonzero(labels == c) for c in np.unique(labels)] if model.is_conditional
              else [np.arange(len(labels))])
    codes = np.concatenate(means) if means else np.zeros((0, model.config.latent_dim))
    code_std = np.concatenate(stds) if stds else None
    generated = _generation_codes(codes, labels, groups, model.is_conditional, n_samples,
                                  code_std)
    generated_classes: list[np.ndarray | None] = [None] * len(groups)
    if not model.is_conditional:  # a VAE: the codes, and the class each was drawn for
        generated, generated_classes = generated
    ratios: dict[str, list[float]] = {"mean": [], "sampled": [], "generated": []}
    made_rows: list[np.ndarray] = []  # the generated rows, model space, for the copy check
    made_labels: list[np.ndarray] = []  # the class each was made for
    for members, z_made, made_classes in zip(groups, generated, generated_classes):
        if len(members) < 2:
            continue
        real_std = real[members].std(0)                                         # [D]
        keep = real_std > 0
        if not keep.any():
            continue
        n = max(2, n_samples // len(groups))
        z = torch.randn((n, model.config.latent_dim), generator=generator,
                        device=x_train.device)                                 # [n, latent]
        prior = {"mean": model.decode(z, _labels_like(y_train, members, n))}
        if model.can_sample_output:
            prior["sampled"] = model.sample_output(prior["mean"], generator=generator)
        outputs = list(prior.items())
        if len(z_made):
            z_made = torch.as_tensor(z_made, dtype=x_train.dtype, device=x_train.device)
            made = model.decode(z_made, _labels_like(y_train, members, len(z_made)))
            if model.can_sample_output:
                made = model.sample_output(made, generator=generator, classes=None if
                                           made_classes is None else
                                           torch.as_tensor(made_classes, device=made.device))
            outputs.append(("generated", made))
            made_rows.append(made.cpu().numpy())
            made_labels.append(np.asarray(made_classes) if made_classes is not None
                               else np.full(len(made), labels[members[0]]))
        for key, out in outputs:
            std = scaler.inverse_transform(out.cpu().numpy()).std(0)
            ratios[key].append(float(np.median(std[keep] / real_std[keep])))
    for key, name in (("mean", "spread_ratio"), ("sampled", "spread_ratio_sampled"),
                      ("generated", "spread_ratio_generated")):
        if ratios[key]:
            report[name] = round(float(np.median(ratios[key])), 4)
    train_rows = x_train.cpu().numpy()               # [N, D] model units, for both checks
    made_all = np.concatenate(made_rows) if made_rows else None
    copies = made_copy_check(train_rows, made_all) if made_rows else None
    if copies is not None:
        report.update(copy_ratio=round(copies.distance_ratio, 4),
                      copy_fraction=round(copies.fraction_flagged, 4))
        if copies.real_repeats > 0:  # what the training rows read themselves, repeats counted
            report.update(copy_real_repeats=round(copies.real_repeats, 4),
                          copy_ratio_real=round(copies.real_self_ratio, 4),
                          copy_fraction_real=round(copies.real_self_fraction_flagged, 4))
    kept = (class_agreement(train_rows, labels, made_all, np.concatenate(made_labels))
            if made_rows else None)
    if kept is not None:
        report.update(class_agreement=round(kept[0], 4), class_agreement_real=round(kept[1], 4))
    # Name only the changes this run has not already made.
    options = ["the calibrated decoder (--decoder sigma)"] if getattr(
        model.config, "decoder", "thesis") == "thesis" else []
    options += ["a lower KL weight (--beta 0.5)", "a KL warm-up (--kl-warmup 20)",
                "more epochs if training stopped at its limit"]
    fixes = "try " + ", ".join(options[:-1]) + " or " + options[-1]
    # Judge the rows Generate makes by default: its codes, then decoder draws where the model
    # can sample them. Decoded means alone spread little wherever much of the data is noise the
    # code cannot explain (a madelon-like table: 480 of 500 columns), which is no collapse.
    spread = report.get("spread_ratio_generated", report.get("spread_ratio"))
    within = " within each class" if model.is_conditional else ""
    if active == 0:
        unused = (f"KL per latent unit ~0 (largest {max(per_unit):.3g} nats, none above "
                  f"{ACTIVE_UNIT_NATS}): the decoder ignores the code")
        if (model.can_sample_output and "spread_ratio_generated" in report
                and LOW_SPREAD_RATIO <= spread <= HIGH_SPREAD_RATIO):
            # Draws from the decoder still spread like the data: independent noise per feature
            # around one mean (per class). That is the right model for unrelated columns, and
            # all there is to learn of a single column: no warning there.
            if x_train.shape[1] > 1:
                report["warnings"].append(
                    f"{unused}, so generated rows are its mean"
                    f"{' per class' if within else ''} plus independent noise per feature: "
                    f"they spread like the data ({spread:.2f}x) but keep no correlation "
                    f"between features; fine if the features are unrelated, otherwise {fixes}")
        else:
            report["warnings"].append(f"{unused}, so generated rows all look alike; {fixes}")
    if spread is not None and spread < LOW_SPREAD_RATIO:
        codes_from = _codes_from(model, groups)
        draws = ", then the decoder's distribution" if model.can_sample_output else ""
        rows = (f"rows made as Generate makes them (codes from {codes_from}{draws})"
                if "spread_ratio_generated" in report else "rows decoded from the prior")
        report["warnings"].append(
            f"{rows} spread {spread:.2f}x as much as the real rows{within} (median "
            f"per-feature std ratio): the model collapses towards prototypes; {fixes}"
            + ("" if model.can_sample_output else
               ", or sample the decoder output when generating"))
    elif copies is not None and near_copies(copies):
        codes_from = _codes_from(model, groups)
        if not model.is_conditional:
            made_how = ("rows interpolated between neighbouring training codes of a class "
                        "(as augment-benchmark and the batch protocol make them)")
            fixes = copy_fixes("interpolate")
        else:
            made_how = f"rows made as Generate makes them (codes from {codes_from})"
            fixes = copy_fixes("class", "posterior" if codes_from.startswith("the posterior")
                               else "mixture", latent_dim=model.config.latent_dim)
        report["warnings"].append(
            f"{copy_figures(copies, rows=made_how)} (on the {x_train.shape[0]} training "
            "rows): they are near-copies of training rows, which a model learns on few rows a "
            f"class or over many epochs; try {', '.join(fixes[:-1])} or {fixes[-1]}")
    elif spread is not None and spread > HIGH_SPREAD_RATIO:
        report["warnings"].append(
            f"rows made as Generate makes them spread {spread:.2f}x as much as the real "
            f"rows{within} (median per-feature std ratio): they are noisier than the data, "
            "so a scorecard will show low precision; try more epochs (--patience 50), "
            "or generate the decoder's mean (--output mean) instead of a draw from it")
    if kept is not None and kept[0] < CLASS_AGREEMENT_WARNING * kept[1]:
        thesis = getattr(model.config, "decoder", "") == "thesis"
        other = ("the CVAE (--model cvae), which is given the class, or a larger latent size "
                 "(--latent-dim)" if not model.is_conditional else
                 "more epochs (--patience 50)"
                 + (" or the calibrated decoder (--decoder sigma)" if thesis else ""))
        report["warnings"].append(
            f"rows made as Generate makes them keep their class less often than real rows: a "
            f"classifier of the training rows gives "
            f"{kept[0]:.0%} of them the class they were made for, against {kept[1]:.0%} of the "
            "training rows themselves (cross-validated): the model does not keep what tells "
            f"the classes apart, so its rows train a classifier poorly; try {other}")
    return report


# ----------------------------------------------------------------------------- training
def train_model(data: FeatureSet, config: TrainConfig, *, run_dir: Path | str | None = None,
                callback: Callback | None = None, dataset_ref: str = "") -> TrainResult:
    """Train ``config.model`` on ``data``; save a run folder when ``run_dir`` is given.

    ``run_dir=None`` trains without saving (tuning). Raises :class:`InputError`
    for data or settings that cannot work and :class:`StorageError` when the
    run cannot be saved (an existing non-empty ``run_dir`` is refused before
    training starts).
    """
    name = dataset_ref or str(data.attrs.get("dataset", "dataset"))
    if run_dir is not None:
        run_dir = Path(run_dir)
        if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            raise StorageError(f"--out {run_dir} already exists and is not empty; choose a new "
                               "run folder (or leave --out out for a fresh one under runs/)")
    plan = check_training_data(data, config, name=name)
    config = plan.config  # every derived value filled in from here on
    device = resolve_device(config.device)
    conditional = MODELS[config.model].is_conditional
    n_classes = data.n_classes if conditional else 0
    mconfig = _model_config(data, config, n_classes)
    train_idx, val_idx = plan.train_index, plan.val_index
    scaler = make_transform(config.transform).fit(data.features[train_idx])
    scaler.fit_domain(data.features[train_idx])  # whole-number columns decode as whole numbers
    scaled = scaler.transform(data.features)                              # [N, D]
    if config.decoder == "thesis":
        # The sigmoid decoders live in [0, 1]: validation rows outside the training range are
        # clipped to it (the BCE needs targets there).
        scaled = np.clip(scaled, 0.0, 1.0)
    X = torch.as_tensor(scaled, device=device)
    Y = one_hot(data.labels, n_classes, device) if conditional else None  # [N, K]
    x_train, x_val = X[train_idx], X[val_idx]
    y_train = Y[train_idx] if Y is not None else None
    y_val = Y[val_idx] if Y is not None else None
    if len(val_idx) == 0:  # no validation rows: monitor the training rows instead
        x_val, y_val = x_train, y_train
    del X, Y

    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(config.seed)
        generator = torch.Generator(device=device).manual_seed(config.seed)
        model = build_model(config.model, mconfig).to(device)
        with _cpu_threads(model, config.batch_size, device):
            result = _fit(model, config, x_train, y_train, x_val, y_val, generator, callback, name,
                          watched="validation" if len(val_idx) else "training")
            # The output spread at the end of training, saved with the weights (sample_output).
            # With the training rows' classes: an unconditional model also keeps each
            # class's own spread (Autoencoder.calibrate).
            model.calibrate(x_train, y_train, generator=generator,
                            classes=torch.as_tensor(data.labels[train_idx], device=device))
            collapse = collapse_report(model, x_train, y_train, data.labels[train_idx], scaler,
                                       generator=generator)
    for message in collapse["warnings"]:
        logger.warning("%s: %s", name, message)
        emit(callback, Log(message, level="warning"))

    result.scaler, result.config, result.derived = scaler, config, dict(plan.derived)
    result.metrics.update(
        n_train=int(len(train_idx)), n_val=int(len(val_idx)),
        n_held_out=int(len(plan.held_out_index)), device=str(device),
        n_features=data.n_features, n_parameters=sum(p.numel() for p in model.parameters()),
        collapse=collapse, derived=dict(plan.derived))
    result.metrics["val_mse"] = reconstruction_mse(model, x_val, y_val)
    if str(data.attrs.get("modality", "")) == "image":
        # Peak signal-to-noise ratio of reconstructions in the raw pixel scale, the training
        # rows' value range as the peak (pixels in [0, 1] for min-max data, as before): on
        # the validation rows, and on the held-out test rows (never trained or validated on,
        # the figure studies report) when there are any.
        lo, hi = float(data.features[train_idx].min()), float(data.features[train_idx].max())

        def psnr(rows: np.ndarray, x: torch.Tensor, y: torch.Tensor | None) -> float:
            recon = scaler.inverse_transform(_reconstruct(model, x, y))
            mse = float(np.mean((recon - data.features[rows]) ** 2)) / max(hi - lo, 1e-12) ** 2
            return 10.0 * math.log10(1.0 / mse) if mse > 0 else float("inf")

        result.metrics["psnr_db"] = psnr(val_idx if len(val_idx) else train_idx, x_val, y_val)
        held = np.asarray(plan.held_out_index, dtype=np.int64)
        if len(held):  # the rows as the model sees them: transformed (and clipped) above
            result.metrics["psnr_held_out_db"] = psnr(
                held, torch.as_tensor(scaled[held], device=device),
                one_hot(data.labels[held], n_classes, device) if conditional else None)
    if run_dir is not None:
        meta = _run_meta(data, config, mconfig, dataset_ref=dataset_ref, device=device)
        meta["derived"] = dict(plan.derived)
        meta["test_folds"] = list(plan.test_folds)
        save_run(run_dir, model=model, meta=meta, scaler=scaler, history=result.history,
                 metrics=result.metrics,
                 split={"train_index": train_idx.tolist(), "val_index": val_idx.tolist(),
                        "held_out_index": plan.held_out_index.tolist(),
                        "test_folds": list(plan.test_folds)})
        result.run_dir = run_dir
    return result


@contextmanager
def _cpu_threads(model: torch.nn.Module, batch_size: int, device: torch.device) -> Iterator[None]:
    """One intra-op thread for small CPU batches (see SMALL_BATCH_WORK), and no more than
    the free cores (:func:`_free_cores`) for large ones; restored afterwards.

    torch's thread count is process-wide: concurrent trainings in threads of one process
    (Optuna n_jobs > 1) may see each other's setting; only speed depends on it.
    """
    work = batch_size * sum(p.numel() for p in model.parameters())
    if device.type != "cpu" or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    wanted = 1 if work < SMALL_BATCH_WORK else min(before, _free_cores())
    if wanted >= before:
        yield
        return
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _free_cores() -> int:
    """Cores not taken by other processes (1-minute load average), at least 1.

    Large CPU batches use several threads only while cores are free: beside another
    CPU-heavy process on 2 cores, torch's default 2 threads ran 11x slower per epoch than
    1 thread (benchmarks/classroom.py, threads part). OMP_NUM_THREADS, when set (the job
    queue sets it for its workers), is the user's choice and is kept.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return cores
    return max(1, min(cores, cores - int(round(load))))


def _fit(model: Autoencoder, config: TrainConfig, x_train: torch.Tensor,
         y_train: torch.Tensor | None, x_val: torch.Tensor, y_val: torch.Tensor | None,
         generator: torch.Generator, callback: Callback | None, name: str, *,
         watched: str = "validation") -> TrainResult:
    """The epoch loop. Data are already tensors on the model's device; ``x_val`` holds the
    rows early stopping watches, ``watched`` says which ("training" when there are no
    validation rows) for the log."""
    # fused: one kernel for the whole Adam update; it dominates a step at small batch sizes.
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr,
                                 fused=x_train.device.type in ("cpu", "cuda"))
    n_train, batch_size = x_train.shape[0], config.batch_size
    closed_form = getattr(model.config, "decoder", "") in CLOSED_FORM_DECODERS
    history: list[dict] = []
    best_val, best_epoch, best_state = math.inf, 0, None
    bad_epochs, stopped_early, diverged = 0, False, False
    lowest_train, unstable = math.inf, None
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        weight = kl_weight(config, epoch)
        model.train()
        # One gather per epoch, then each batch is a view: no per-batch indexing or copying.
        perm = torch.randperm(n_train, device=x_train.device, generator=generator)
        xs = x_train[perm]                                           # [N_train, D]
        ys = y_train[perm] if y_train is not None else None          # [N_train, K]
        sums = torch.zeros(3, device=x_train.device)  # summed on the device: one sync an epoch
        sigma_sq = torch.zeros_like(model.log_sigma) if closed_form else None
        for start in range(0, n_train, batch_size):
            xb = xs[start:start + batch_size]
            parts = model.loss(xb, ys[start:start + batch_size] if ys is not None else None,
                               kl_weight=weight)
            optimizer.zero_grad(set_to_none=True)
            parts.total.backward()
            optimizer.step()
            with torch.no_grad():
                sums.add_(torch.stack(parts), alpha=xb.shape[0])
                if sigma_sq is not None:
                    sigma_sq.add_(torch.exp(2.0 * model.log_sigma), alpha=xb.shape[0])
        if sigma_sq is not None:
            # A closed-form decoder stores each training batch's sigma, so the loss watched
            # below would use the last batch's alone: one row of 49 (batches of 8), or 8 values
            # of a one-feature table, put the watched loss of chickwts anywhere from 1.4 to 34
            # between epochs, and early stopping kept epoch 2. Evaluate with the epoch's sigma.
            with torch.no_grad():
                model.log_sigma.copy_(0.5 * torch.log(sigma_sq / n_train))
        train_total, train_recon, train_kl = (sums / n_train).tolist()
        # Report the full-beta objective so train and validation compare during warm-up.
        train_total += (config.beta - weight) * train_kl
        val_total, val_recon, val_kl = evaluate(model, x_val, y_val, kl_weight=config.beta).tolist()
        seconds = time.perf_counter() - t0
        if not (math.isfinite(train_total) and math.isfinite(val_total)):
            diverged = True
            if best_state is None:
                raise InputError(
                    f"training diverged: the loss became NaN/infinite in epoch {epoch} on "
                    f"{name} before any good weights; lower the learning rate (lr={config.lr:g}) "
                    "or check the data for extreme values")
            model.load_state_dict(best_state)
            message = (f"training diverged in epoch {epoch} (loss became NaN/infinite); stopped "
                       f"and kept the weights of epoch {best_epoch}; a lower learning rate "
                       f"(now {config.lr:g}) should avoid it")
            logger.warning(message)
            emit(callback, Log(message, level="warning"))
            break
        if unstable is None and train_total > lowest_train + UNSTABLE_JUMP * max(
                1.0, abs(lowest_train)):
            unstable = {"epoch": epoch, "loss": train_total, "before": lowest_train,
                        "lr": config.lr}
            emit(callback, Log(unstable_message(unstable), level="warning"))
        lowest_train = min(lowest_train, train_total)
        history.append({"epoch": epoch, "train_loss": train_total, "train_recon": train_recon,
                        "train_kl": train_kl, "val_loss": val_total, "val_recon": val_recon,
                        "val_kl": val_kl, "kl_weight": weight, "seconds": seconds})
        if val_total < best_val:
            best_val, best_epoch, bad_epochs = val_total, epoch, 0
            best_state = _state_copy(model)
        elif epoch > config.kl_warmup_epochs:  # the objective still moves during warm-up
            bad_epochs += 1
        emit(callback, EpochEnd(
            epoch=epoch, n_epochs=config.epochs, train_loss=train_total, val_loss=val_total,
            train_recon=train_recon, train_kl=train_kl, val_recon=val_recon, val_kl=val_kl,
            seconds=seconds, extra={"kl_weight": weight, "best_val_loss": best_val}))
        if config.patience and bad_epochs >= config.patience:
            stopped_early = True
            emit(callback, Log(f"early stopping after epoch {epoch}: no better {watched} loss "
                               f"for {config.patience} epochs; keeping epoch {best_epoch}"))
            break
    if best_state is not None and not diverged:
        model.load_state_dict(best_state)
    elapsed = time.perf_counter() - started
    epochs_run = len(history)
    per_epoch = float(np.mean([h["seconds"] for h in history])) if history else 0.0
    best = history[best_epoch - 1] if best_epoch else {}
    metrics = {"best_val_loss": best_val, "best_epoch": best_epoch, "epochs_run": epochs_run,
               "stopped_early": stopped_early, "diverged": diverged, "unstable": unstable,
               "seconds_per_epoch": per_epoch, "seconds_total": elapsed,
               "val_recon": best.get("val_recon"), "val_kl": best.get("val_kl"),
               "train_loss": best.get("train_loss")}
    return TrainResult(run_dir=None, epochs_run=epochs_run, best_val_loss=best_val,
                       seconds_per_epoch=per_epoch, history=history, stopped_early=stopped_early,
                       diverged=diverged, best_epoch=best_epoch, metrics=metrics, model=model)


# ----------------------------------------------------------------------------- run folders
def _run_meta(data: FeatureSet, config: TrainConfig, mconfig: Any, *, dataset_ref: str,
              device: torch.device) -> dict[str, Any]:
    return {
        "format": RUN_FORMAT, "model": config.model, "train_config": config.to_dict(),
        "model_config": dataclasses.asdict(mconfig), "n_features": data.n_features,
        "n_classes": data.n_classes, "class_names": list(data.class_names),
        "feature_shape": list(_feature_shape(data) or ()) or None,
        "modality": str(data.attrs.get("modality", "tabular")),
        # What the rows are and, for spectrograms, how to turn decoded rows back into sound.
        "extractor": data.attrs.get("extractor"), "spectrogram": data.attrs.get("spectrogram"),
        "dataset_ref": dataset_ref or str(data.attrs.get("dataset", "")),
        "weights": WEIGHTS_FILE, "trained_on": str(device),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "synth_core_version": __version__, "torch_version": torch.__version__,
    }


def save_run(run_dir: Path | str, *, model: torch.nn.Module, meta: dict[str, Any],
             scaler: FeatureTransform, history: list[dict], metrics: dict[str, Any],
             split: dict[str, Any] | None = None) -> Path:
    """Write a run folder atomically: a hidden temp folder, config.json last, one rename."""
    run_dir = Path(run_dir)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise StorageError(f"{run_dir} already exists and is not empty; nothing was overwritten; "
                           "choose a new run folder")
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.", suffix=".partial", dir=run_dir.parent))
    try:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save(state, tmp / WEIGHTS_FILE)
        scaler.save(tmp / SCALER_FILE)
        atomic_write_json(tmp / HISTORY_FILE, history)
        atomic_write_json(tmp / METRICS_FILE, metrics)
        if split is not None:
            atomic_write_json(tmp / SPLIT_FILE, split)
        atomic_write_json(tmp / CONFIG_FILE, meta)  # last: marks the run complete
        os.replace(tmp, run_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = exc.strerror or str(exc)
        raise StorageError(f"could not save the run to {run_dir}: {reason}; nothing was saved "
                           "(no partial run left); free disk space or choose another folder "
                           "and train again") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return run_dir


def new_run_dir(workspace: Workspace, model: str) -> Path:
    """A fresh, not yet existing folder ``runs/<model>-<timestamp>`` (suffixed if taken)."""
    stem = f"{safe_name(model)}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    candidate, n = workspace.runs_dir / stem, 2
    while candidate.exists():
        candidate, n = workspace.runs_dir / f"{stem}-{n}", n + 1
    return candidate


def reserve_run_dir(workspace: Workspace, model: str) -> Path:
    """:func:`new_run_dir`, created empty at once so that it is this caller's alone.

    Two jobs started in the same second (two browser tabs) would otherwise both pick
    the same name and the second to finish could not save. Saving replaces the empty
    folder; a failed job removes it again (see :func:`train_job`).
    """
    workspace.runs_dir.mkdir(parents=True, exist_ok=True)
    while True:
        candidate = new_run_dir(workspace, model)
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:  # taken between the check and mkdir: pick the next name
            continue


def train_job(params: dict, ctx) -> dict:
    """Job entry point (JOB_KINDS "train"): params {"dataset": ref, "config": {...}}.

    Optional ``"run_dir"`` names the run folder; by default a new one under runs/.
    """
    from synth_core.data.datasets import load_dataset

    workspace = getattr(ctx, "workspace", None) or get_workspace()
    ref = str(params.get("dataset", ""))
    config = TrainConfig.from_dict(dict(params.get("config") or {}))
    data = load_dataset(ref, workspace)
    reserved = not params.get("run_dir")
    run_dir = Path(params["run_dir"]) if not reserved else reserve_run_dir(workspace, config.model)
    emit(ctx, Progress(0.0, f"training a {config.model} on {ref}"))
    try:
        result = train_model(data, config, run_dir=run_dir, callback=ctx, dataset_ref=ref)
    except BaseException:
        if reserved and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()  # the reserved folder is still empty: nothing was saved
        raise
    how = ("diverged; kept the last good weights" if result.diverged
           else "stopped early" if result.stopped_early else "finished")
    return {**result.summary(), "dataset": ref, "model": config.model,
            "message": f"{how} after {result.epochs_run} epochs; best "
                       f"{'validation' if result.metrics.get('n_val') else 'training'} loss "
                       f"{result.best_val_loss:.4g} (epoch {result.best_epoch})"}

