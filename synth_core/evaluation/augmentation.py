"""The augmentation benchmark of the tabular VAE study, as one call.

For each seed: split the real rows 70/30 by class, train the generator (VAE or
CVAE) on the 70 %, generate a synthetic training set of the same size and
class balance, or ``rows_per_real`` times that size
(:func:`synth_core.generation.sampling.synthesize`: class sampling for a
CVAE, within-class interpolation otherwise), train the same seeded MLP once on
the real 70 % and once on the synthetic rows, and test both on the real 30 %.
The generator may also be a baseline (per-class Gaussian, Gaussian copula,
SMOTE; :mod:`synth_core.generation.baselines`) fitted on the same 70 %, so the
VAE's figures can be read against something simple. A synthetic set that
records seeing a test row is refused (:func:`.holdout.check_leakage`).
The study's table (real vs synthetic accuracy: leukemia 0.82 vs 0.95, madelon
0.55 vs 0.57, gisette 0.98 vs 0.96, GCM 0.54 vs 0.51) came from single splits
with as few as 22 test rows; several seeds give a mean and a spread instead.

:func:`augment_benchmark` returns an :class:`AugmentResult` whose
:meth:`~AugmentResult.report_text` prints both classification reports side by
side; :func:`augment_job` runs it in the background.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth_core.errors import InputError
from synth_core.events import Callback, EpochEnd, Log, Progress, emit
from synth_core.evaluation.classifiers import ClassifierScore, classifier_utility, require_labels
from synth_core.evaluation.holdout import check_leakage, stratified_split
from synth_core.features import FeatureSet

SIDES = ("real", "synthetic")
# Generators the benchmark can train on the real 70 %: the VAEs, and the baselines of
# synth_core.generation.baselines (fitted, not trained; no preset or epochs).
MODELS = ("vae", "cvae")
BASELINE_GENERATORS = ("gaussian", "copula", "smote")
GENERATORS = MODELS + BASELINE_GENERATORS
MAX_ROWS_PER_REAL = 20


@dataclass(frozen=True)
class AugmentConfig:
    """What to run: generator kind, split, seeds, classifier and training overrides."""

    model: str = "vae"
    test_size: float = 0.3
    seeds: tuple[int, ...] = (0,)
    classifier: str = "mlp"
    preset: str | None = None            # a training.PRESETS name; None: the no-flag defaults
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides (epochs, ...)
    # Synthetic training rows per real training row, class by class: 1 is the study's
    # protocol (a copy of the same size). A classifier trained on synthetic rows meets the
    # generator's noise and its own sampling noise; more rows take the second away
    # (docs/quality.md: leukemia-like CVAE 0.864 with 1, 0.924 = the real rows' with 5).
    rows_per_real: int = 1

    def __post_init__(self) -> None:
        if self.model not in GENERATORS:
            raise InputError(f"generator (model) must be one of {', '.join(GENERATORS)}; got "
                             f"{self.model!r}")
        if not 0.0 < self.test_size < 1.0:
            raise InputError(f"test_size must be between 0 and 1; got {self.test_size}; 0.3 "
                             "keeps 30 % of the rows for testing, as in the study")
        seeds = tuple(int(s) for s in self.seeds)
        if not seeds:
            raise InputError("seeds is empty; give at least one seed, e.g. 0 or 0,1,2")
        if len(set(seeds)) != len(seeds):
            raise InputError(f"seeds {list(seeds)} repeat a seed; give distinct seeds")
        if (isinstance(self.rows_per_real, bool)
                or not isinstance(self.rows_per_real, (int, np.integer))
                or not 1 <= int(self.rows_per_real) <= MAX_ROWS_PER_REAL):
            raise InputError(f"rows per real row must be a whole number from 1 to "
                             f"{MAX_ROWS_PER_REAL}; got {self.rows_per_real!r}; 1 is the "
                             "study's protocol (a synthetic copy of the same size)")
        object.__setattr__(self, "rows_per_real", int(self.rows_per_real))
        object.__setattr__(self, "seeds", seeds)

    def train_config(self, seed: int):
        """The generator's TrainConfig for one seed (preset or the defaults ``train`` derives
        from the data, then the overrides); None for a baseline, which is fitted rather than
        trained."""
        from synth_core.training.config import PRESETS, TrainConfig

        if self.model in BASELINE_GENERATORS:
            if self.preset or self.train:
                raise InputError(f"the {self.model} baseline is fitted, not trained; leave out "
                                 "the preset and the training options (epochs, latent size, "
                                 "...) or choose vae or cvae")
            return None
        base: dict[str, Any] = {}
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise InputError(f"preset {self.preset!r} is unknown; choose one of "
                                 f"{', '.join(PRESETS)}")
            base = PRESETS[self.preset].to_dict()
            if base["model"] != self.model:
                raise InputError(f"preset {self.preset!r} trains a {base['model']}, not a "
                                 f"{self.model}; pick a {self.model} preset")
        # The benchmark's own split holds the test rows out already: train on all the rest.
        return TrainConfig.from_dict({**base, "test_fraction": 0.0, **self.train,
                                      "model": self.model, "seed": seed})

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AugmentConfig":
        data = dict(data)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"augmentation options: unknown {unknown}; known options are "
                             + ", ".join(sorted(known)))
        if "seeds" in data:
            data["seeds"] = tuple(data["seeds"])
        return cls(**data)


@dataclass
class SeedResult:
    """One split: the classifier trained on real rows and the one trained on synthetic rows."""

    seed: int
    real: ClassifierScore
    synthetic: ClassifierScore
    n_train: int
    n_test: int
    n_synthetic: int
    generator_epochs: int
    seconds: float


@dataclass
class AugmentResult:
    dataset: str
    config: dict[str, Any]
    runs: list[SeedResult]
    class_names: list[str]
    seconds: float = 0.0
    created: str = ""

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation over seeds of accuracy and macro-F1, per side."""
        out: dict[str, dict[str, float]] = {}
        for side in SIDES:
            for metric in ("accuracy", "macro_f1"):
                values = np.array([getattr(getattr(r, side), metric) for r in self.runs])
                out[f"{side}_{metric}"] = {"mean": float(values.mean()),
                                           "std": float(values.std(ddof=1)) if len(values) > 1
                                           else 0.0,
                                           "min": float(values.min()), "max": float(values.max())}
        return out

    def class_table(self) -> list[dict[str, Any]]:
        """Per class (then accuracy and averages): precision, recall, F1 per side, seed means."""
        keys = list(self.class_names) + ["macro avg", "weighted avg"]
        rows = []
        for key in keys:
            row: dict[str, Any] = {"class": key}
            for side in SIDES:
                reports = [getattr(r, side).report.get(key, {}) for r in self.runs]
                for metric in ("precision", "recall", "f1-score"):
                    values = [rep[metric] for rep in reports if metric in rep]
                    row[f"{side} {metric}"] = float(np.mean(values)) if values else None
                    if len(values) > 1:
                        row[f"{side} {metric} std"] = float(np.std(values, ddof=1))
            support = [r.real.report.get(key, {}).get("support") for r in self.runs]
            row["support"] = float(np.mean([s for s in support if s is not None] or [0]))
            rows.append(row)
        return rows

    def report_text(self) -> str:
        """Both classification reports side by side (seed means, +- std with several seeds)."""
        several = len(self.runs) > 1
        name_width = max([len(n) for n in self.class_names] + [12])
        cell = 13 if several else 9

        def fmt(row: dict, side: str, metric: str) -> str:
            value = row.get(f"{side} {metric}")
            if value is None:
                return " " * cell
            std = row.get(f"{side} {metric} std")
            text = f"{value:.2f}" + (f"+-{std:.2f}" if several and std is not None else "")
            return text.rjust(cell)

        head = " " * name_width + "  " + "".join(
            f"{side.upper() + ' (train on ' + side + ')':^{3 * cell}}  " for side in SIDES)
        sub = " " * name_width + "  " + "".join(
            "".join(m.rjust(cell) for m in ("precision", "recall", "f1")) + "  " for _ in SIDES)
        lines = [head.rstrip(), sub.rstrip() + "  support"]
        for row in self.class_table():
            if row["class"] == "macro avg":
                lines.append(self._accuracy_line(name_width, cell))
            lines.append(row["class"].rjust(name_width) + "  " + "".join(
                "".join(fmt(row, side, m) for m in ("precision", "recall", "f1-score")) + "  "
                for side in SIDES) + f"{row['support']:7.0f}")
        seeds = ", ".join(str(r.seed) for r in self.runs)
        lines.append("")
        lines.append(f"{len(self.runs)} seed(s) ({seeds}); test rows per seed: "
                     f"{self.runs[0].n_test}; synthetic training rows: {self.runs[0].n_synthetic}")
        return "\n".join(lines)

    def _accuracy_line(self, name_width: int, cell: int) -> str:
        summary = self.summary()
        parts = []
        for side in SIDES:
            s = summary[f"{side}_accuracy"]
            text = f"{s['mean']:.2f}" + (f"+-{s['std']:.2f}" if len(self.runs) > 1 else "")
            parts.append(" " * (2 * cell) + text.rjust(cell) + "  ")
        return "accuracy".rjust(name_width) + "  " + "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "config": self.config, "class_names": self.class_names,
                "summary": self.summary(), "per_class": self.class_table(),
                "runs": [asdict(r) for r in self.runs], "seconds": self.seconds,
                "created": self.created}


def _check_preset_latent(data: FeatureSet, config: AugmentConfig, name: str) -> None:
    """Refuse a preset latent wider than the table, naming the flags that fix it.

    The thesis presets fix the latent size for 512-d VGGish embeddings (42, 8): on a table
    of fewer features (iris, wine) training's own refusal told the user to leave out the
    latent size, which they had. The defaults (no preset) derive it from the table.
    """
    from synth_core.training.defaults import derive_latent_dim

    train_config = config.train_config(config.seeds[0])
    if (train_config is None or config.train.get("latent_dim") is not None
            or train_config.latent_dim is None or train_config.latent_dim <= data.n_features):
        return
    raise InputError(
        f"{name}: has {data.n_features} features, fewer than the latent size "
        f"{train_config.latent_dim} of the generator preset {config.preset!r}; pass a latent "
        f"size of at most {data.n_features} "
        f"(--latent-dim {derive_latent_dim(data.n_features)}), or "
        f"leave out the preset for the defaults, which fit the latent size to the data")


def _check_two_classes(data: FeatureSet, name: str) -> None:
    """Refuse data of one class before any generator is trained: the protocol's classifiers
    need two classes, and they are fitted only after the generators."""
    present = np.unique(data.labels[data.labels >= 0])
    if len(present) < 2:
        label = int(present[0])
        named = data.class_names[label] if label < len(data.class_names) else str(label)
        raise InputError(
            f"{name}: every labelled row is of one class ({named}); the augmentation benchmark "
            "scores classifiers, which need rows of at least two classes; pick a dataset with "
            "two or more classes, or import the table again naming its class column "
            "(--label-column NAME, or the Data page's label column)")


MIN_TRAIN_ROWS = 2  # training rows of each class the split keeps (stratified_split)


def augment_benchmark(data: FeatureSet, config: AugmentConfig | None = None, *,
                      dataset_ref: str = "", runs_dir: Path | None = None,
                      callback: Callback | None = None) -> AugmentResult:
    """Run the protocol for every seed in ``config.seeds``.

    ``runs_dir`` keeps each seed's generator there (``augment-<model>-seed<S>``);
    by default they live in a temporary folder and are deleted.
    """
    from threadpoolctl import threadpool_limits

    from synth_core.training.trainer import train_model

    config = config or AugmentConfig()
    require_labels(data, dataset_ref or "dataset",
                   needs="the benchmark's class-stratified split and classifiers",
                   fix="import the table again with --label-column NAME (the column of "
                       "classes) or pick a labelled dataset")
    data.check_finite(dataset_ref or "dataset")
    _check_two_classes(data, dataset_ref or "dataset")
    _check_preset_latent(data, config, dataset_ref or "dataset")
    started = time.perf_counter()
    results = []
    n_seeds = len(config.seeds)
    for i, seed in enumerate(config.seeds):
        seed_started = time.perf_counter()
        base = i / n_seeds

        def progress(event, base=base, seed=seed) -> None:
            # Training epochs become overall progress (training is ~80 % of each seed).
            if isinstance(event, EpochEnd):
                emit(callback, Progress(base + 0.8 * event.epoch / event.n_epochs / n_seeds,
                                        f"seed {seed}: generator epoch {event.epoch}/"
                                        f"{event.n_epochs}", stage="train"))
            else:
                emit(callback, event)

        # A class's generator rows come in pairs of its rows (a VAE's interpolation, SMOTE)
        # or from its spread (the baselines): 2 training rows at least, even if that leaves
        # a tiny class fewer test rows or none.
        train, test = stratified_split(data, test_size=config.test_size, random_state=seed,
                                       name=dataset_ref or "dataset",
                                       min_train_rows=MIN_TRAIN_ROWS)
        untested = sorted(set(data.labels.tolist()) - set(test.labels.tolist()))
        if untested and i == 0:
            names = ", ".join(repr(data.class_names[c]) for c in untested[:5])
            emit(callback, Log(f"class(es) {names} have too few rows to split "
                               f"{1 - config.test_size:.0%}/{config.test_size:.0%}: every row "
                               f"trains (a generator needs {MIN_TRAIN_ROWS} of a class), so the "
                               "test split has none of them and the accuracies leave them out",
                               level="warning"))
        train_config = config.train_config(seed)
        emit(callback, Progress(base, f"seed {seed}: {'training' if train_config else 'fitting'}"
                                      f" a {config.model} on {train.n_samples} rows",
                                stage="train"))
        epochs = 0
        if train_config is None:
            synthetic = _baseline(config.model, train, seed, config.rows_per_real)
        else:
            with tempfile.TemporaryDirectory(prefix="augment-") as tmp:
                run_dir = (Path(runs_dir) / f"augment-{config.model}-{_stamp()}-seed{seed}"
                           if runs_dir is not None else Path(tmp) / "run")
                trained = train_model(train, train_config, run_dir=run_dir, callback=progress,
                                      dataset_ref=dataset_ref)
                epochs = trained.epochs_run
                synthetic = _generate(run_dir, train, seed, progress, config.rows_per_real)
        # The generator only ever sees the 70 %: a guard that this stays true (the check
        # compares the rows it records as seen with the test rows' ids).
        check_leakage(f"seed {seed} ({config.model})", synthetic, test,
                      test_source=f"the {config.test_size:.0%} test split of "
                                  f"{dataset_ref or 'the data'}")
        emit(callback, Progress(base + 0.85 / n_seeds, f"seed {seed}: classifiers",
                                stage="classify"))
        with threadpool_limits(limits=1):  # small-batch MLPs: threads only contend
            real_score = classifier_utility(train, test, classifier=config.classifier,
                                            random_state=seed, set_name="real", mode="trtr")
            synthetic_score = classifier_utility(synthetic, test, classifier=config.classifier,
                                                 random_state=seed, set_name="synthetic",
                                                 mode="tstr")
        results.append(SeedResult(seed=seed, real=real_score, synthetic=synthetic_score,
                                  n_train=train.n_samples, n_test=test.n_samples,
                                  n_synthetic=synthetic.n_samples,
                                  generator_epochs=epochs,
                                  seconds=time.perf_counter() - seed_started))
        emit(callback, Log(f"seed {seed}: accuracy real {real_score.accuracy:.3f}, synthetic "
                           f"{synthetic_score.accuracy:.3f}"))
    emit(callback, Progress(1.0, "benchmark finished", stage="done"))
    return AugmentResult(dataset=dataset_ref, config=config.to_dict(), runs=results,
                         class_names=list(results[0].real.class_names),
                         seconds=time.perf_counter() - started,
                         created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def _counts(train: FeatureSet, rows_per_real: int) -> dict[int, int]:
    """Rows to make of each class: its training rows times ``rows_per_real``."""
    labels, counts = np.unique(train.labels, return_counts=True)
    return {int(c): int(n) * rows_per_real for c, n in zip(labels, counts)}


def _generate(run_dir: Path, train: FeatureSet, seed: int, callback: Callback,
              rows_per_real: int = 1) -> FeatureSet:
    """A synthetic copy of ``train`` from the saved run: same class counts, times
    ``rows_per_real``."""
    from synth_core.generation.sampling import synthesize
    from synth_core.training.runs import Run

    run = Run.load(run_dir)
    return synthesize(run, train, _counts(train, rows_per_real), random_state=seed,
                      callback=callback)


def _baseline(kind: str, train: FeatureSet, seed: int, rows_per_real: int = 1) -> FeatureSet:
    """A synthetic copy of ``train`` from a baseline fitted on it: same class counts, times
    ``rows_per_real``."""
    from synth_core.generation.baselines import baseline_feature_set

    return baseline_feature_set(train, kind, _counts(train, rows_per_real), random_state=seed)


def _stamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def augment_job(params: dict[str, Any], ctx) -> dict[str, Any]:
    """Background job: params {dataset, config: AugmentConfig fields, keep_runs?: bool}."""
    from synth_core.data.datasets import load_dataset
    from synth_core.evaluation.report import reports_dir
    from synth_core.workspace import atomic_write_json

    workspace = ctx.workspace
    ref = str(params.get("dataset", ""))
    config = AugmentConfig.from_dict(params.get("config") or {})
    data = load_dataset(ref, workspace)
    result = augment_benchmark(data, config, dataset_ref=ref,
                               runs_dir=workspace.runs_dir if params.get("keep_runs") else None,
                               callback=ctx)
    path = reports_dir(workspace) / f"augment-{_stamp()}-{ctx.job_id[-6:]}.json"
    atomic_write_json(path, result.to_dict())
    summary = result.summary()
    real, synth = summary["real_accuracy"]["mean"], summary["synthetic_accuracy"]["mean"]
    return {"report": str(path), "summary": summary,
            "message": f"accuracy on the real test rows: trained on real {real:.3f}, on "
                       f"synthetic {synth:.3f} ({len(result.runs)} seed(s))"}
