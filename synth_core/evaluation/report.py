"""The scorecard as a record: what each metric means, its rows, JSON and CSV, report files.

:data:`METRICS` says how to read every number (label, group, range, meaning);
a :class:`Scorecard` holds the rows the scorecard measured (overall and per
class), the classifiers' reports, the copy checks, the per-feature agreement,
the baseline comparison and the headline, and turns into JSON
(:meth:`Scorecard.to_dict`, :meth:`Scorecard.from_dict`) and long-format CSV
(:meth:`Scorecard.to_rows`). :func:`save_report` / :func:`load_report` keep
reports in the workspace's ``reports/``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.evaluation.classifiers import ClassifierScore
from synth_core.evaluation.metrics import CopyCheck, FeatureAgreement
from synth_core.workspace import atomic_write_bytes, atomic_write_json, read_json

REFERENCE = "real held-out"  # name of the reference set in a scorecard



@dataclass(frozen=True)
class MetricInfo:
    """How to read one metric: display label, group, range and the one-line meaning."""

    label: str
    group: str  # utility, fidelity, diversity, detection, copying, images
    scale: str  # range and direction, e.g. "0 to 1, higher is better"
    meaning: str


METRICS: dict[str, MetricInfo] = {
    "tstr_accuracy": MetricInfo(
        "Train synthetic, test real: accuracy", "utility", "0 to 1, higher is better",
        "A classifier trained only on this set, scored on real test rows; the reference "
        "column is train-on-real (TRTR)."),
    "tstr_macro_f1": MetricInfo(
        "Train synthetic, test real: macro-F1", "utility", "0 to 1, higher is better",
        "F1 averaged over classes with equal weight, so rare classes count as much as common "
        "ones."),
    "augmented_accuracy": MetricInfo(
        "Real + synthetic, test real: accuracy", "utility", "0 to 1, higher is better",
        "Adding this set to the real training rows; above the reference means the synthetic "
        "rows help."),
    "augmented_macro_f1": MetricInfo(
        "Real + synthetic, test real: macro-F1", "utility", "0 to 1, higher is better",
        "Macro-F1 of real + synthetic training against real training alone (reference)."),
    "baseline_tstr_accuracy": MetricInfo(
        "Per-class Gaussian baseline: train on it, test real", "baseline",
        "0 to 1; this set should beat it",
        "The same classifier trained on rows of a multivariate Gaussian fitted per class to "
        "the real training rows, as many per class as this set has; a generator worth using "
        "scores higher."),
    "baseline_tstr_macro_f1": MetricInfo(
        "Per-class Gaussian baseline: train on it, test real, macro-F1", "baseline",
        "0 to 1; this set should beat it",
        "Macro-F1 of the same classifier trained on the Gaussian baseline's rows; the "
        "headline compares it where the real test classes are imbalanced."),
    "baseline_detection_auc": MetricInfo(
        "Per-class Gaussian baseline: real-vs-synthetic AUC", "baseline",
        "0.5 is best; this set should be closer to 0.5",
        "The detection AUC of the Gaussian baseline's rows; a generator worth using is harder "
        "to tell from real rows than this."),
    "precision": MetricInfo(
        "Precision", "fidelity", "0 to 1, higher is better",
        "Share of synthetic rows that fall inside the real data's k-NN balls: are they "
        "realistic? (k-NN distances on a table are in each column's real standard "
        "deviations; images and audio keep their own unit.)"),
    "density": MetricInfo(
        "Density", "fidelity", "0 and up, about 1 for real data",
        "How many real k-NN balls hold each synthetic row, over k; well above 1 means "
        "samples crowd the dense real regions."),
    "recall": MetricInfo(
        "Recall", "diversity", "0 to 1, higher is better",
        "Share of real rows inside the synthetic k-NN balls: does the set reach all of the "
        "real variety?"),
    "coverage": MetricInfo(
        "Coverage", "diversity", "0 to 1, higher is better",
        "Share of real rows whose k-NN ball holds at least one synthetic row; robust to "
        "outliers, unlike recall."),
    "frechet": MetricInfo(
        "Frechet distance", "fidelity", "0 and up, lower is better",
        "Distance between Gaussians fitted to real and synthetic rows (as FID/FAD; on a table "
        "in each column's real standard deviations); depends on the number of rows, so compare "
        "sets of equal size."),
    "frechet_frames": MetricInfo(
        "Frechet distance per frame", "fidelity", "0 and up, lower is better",
        "The same on single frames (rows reshaped to feature_shape), as in the Frechet "
        "Audio Distance on VGGish frames."),
    "detection_auc": MetricInfo(
        "Real-vs-synthetic AUC", "detection", "0.5 is best, 1 means fully separable",
        "Cross-validated AUC of a classifier trying to tell synthetic from real rows; 0.5 "
        "means it cannot."),
    "copy_fraction": MetricInfo(
        "Near-copies", "copying", "0 to 1, about the reference is expected",
        "Share of rows closer to a training row than 99 % of training rows are to their "
        "nearest different one; well above the reference means memorised training rows (on "
        "data that repeats rows the reference is high too)."),
    "nn_distance_ratio": MetricInfo(
        "Distance to training / real-to-real", "copying", "about 1 is expected, near 0 is "
        "copying", "Median distance to the nearest training row over the median distance "
        "from a training row to its nearest different one; below 0.7x of the reference's "
        "(or a share of new rows below 0.7x of its), the first lines call the rows "
        "near-copies."),
    "spread_ratio": MetricInfo(
        "Spread ratio (median over features)", "per feature",
        "about 1 is best; well below 1 is collapse",
        "Per feature, the standard deviation of this set over the real one (within classes "
        "when both are labelled); the median over features. Below about 0.7 the rows huddle "
        "around class means (a decoder's mean)."),
    "spread_agreement": MetricInfo(
        "Features with the right spread", "per feature", "0 to 1, higher is better",
        "Share of features whose spread is within a factor of 1.5 of the real spread."),
    "marginal_distance": MetricInfo(
        "Marginal distance (mean over features)", "per feature", "0 and up, lower is better",
        "Wasserstein distance between the real and synthetic values of each feature, in real "
        "standard deviations, averaged over features; the worst features are listed by name."),
    "psnr": MetricInfo(
        "Reconstruction PSNR (dB)", "images", "higher is better (about 32 dB is good on "
        "MNIST)", "Peak signal-to-noise ratio of the model's reconstructions of real test "
        "images."),
}


@dataclass
class MetricRow:
    """One number of the scorecard with its interval and what it means."""

    set: str
    metric: str            # key of METRICS
    value: float | None
    detail: str = ""       # classifier name for utility metrics
    low: float | None = None
    high: float | None = None
    reference: float | None = None  # the same metric for the reference set

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    @property
    def label(self) -> str:
        return self.info.label + (f" [{self.detail}]" if self.detail else "")


@dataclass
class ClassRow:
    """Per-class numbers of one set (None where a class had too few rows)."""

    set: str
    class_index: int
    class_name: str
    n_real: int
    n_synthetic: int
    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None
    frechet: float | None = None
    f1_synthetic: float | None = None  # TSTR F1 of this class (first classifier)
    f1_real: float | None = None       # TRTR F1 of this class


ROW_COLUMNS = ["section", "set", "group", "metric", "detail", "class", "value", "low", "high",
               "reference", "scale", "meaning"]


@dataclass
class Scorecard:
    """Everything :func:`scorecard` measured; JSON via to_dict, CSV via to_rows."""

    sets: list[str]                   # reference first (when included), then synthetic sets
    metrics: list[MetricRow]
    per_class: list[ClassRow]
    classifiers: list[ClassifierScore]
    copies: dict[str, CopyCheck]
    notes: list[str]
    real: dict[str, Any]              # n_train, n_test, n_features, class_names, split
    config: dict[str, Any]
    seconds: float = 0.0
    created: str = ""
    # First lines of the report: provenance warnings and the baseline verdicts.
    headline: list[str] = field(default_factory=list)
    features: dict[str, FeatureAgreement] = field(default_factory=dict)  # set -> per feature

    def metric(self, set_name: str, metric: str, detail: str = "") -> MetricRow | None:
        for row in self.metrics:
            if row.set == set_name and row.metric == metric and row.detail == detail:
                return row
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sets": list(self.sets),
            "metrics": [asdict(r) | {"label": r.label, "group": r.info.group,
                                     "scale": r.info.scale, "meaning": r.info.meaning}
                        for r in self.metrics],
            "per_class": [asdict(r) for r in self.per_class],
            "classifiers": [asdict(c) for c in self.classifiers],
            "copies": {name: asdict(c) | {"distance_ratio": c.distance_ratio}
                       for name, c in self.copies.items()},
            "notes": list(self.notes), "real": dict(self.real), "config": dict(self.config),
            "seconds": self.seconds, "created": self.created, "headline": list(self.headline),
            "features": {name: asdict(f) for name, f in self.features.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scorecard":
        """Rebuild from :meth:`to_dict` output (a saved JSON report)."""

        def _take(klass, row):
            names = {f.name for f in fields(klass)}
            return klass(**{k: v for k, v in row.items() if k in names})

        classifiers = []
        for row in data.get("classifiers", []):
            score = _take(ClassifierScore, row)
            score.accuracy_ci = tuple(score.accuracy_ci)
            score.macro_f1_ci = tuple(score.macro_f1_ci)
            classifiers.append(score)
        return cls(sets=list(data.get("sets", [])),
                   metrics=[_take(MetricRow, r) for r in data.get("metrics", [])],
                   per_class=[_take(ClassRow, r) for r in data.get("per_class", [])],
                   classifiers=classifiers,
                   copies={k: _take(CopyCheck, v) for k, v in data.get("copies", {}).items()},
                   notes=list(data.get("notes", [])), real=dict(data.get("real", {})),
                   config=dict(data.get("config", {})), seconds=float(data.get("seconds", 0.0)),
                   created=str(data.get("created", "")),
                   headline=list(data.get("headline", [])),
                   features={k: _take(FeatureAgreement, v)
                             for k, v in data.get("features", {}).items()})

    def to_rows(self) -> list[dict[str, Any]]:
        """Long-format rows (columns :data:`ROW_COLUMNS`): overall metrics, then per class."""
        rows = []
        for r in self.metrics:
            rows.append({"section": "overall", "set": r.set, "group": r.info.group,
                         "metric": r.metric, "detail": r.detail, "class": "", "value": r.value,
                         "low": r.low, "high": r.high, "reference": r.reference,
                         "scale": r.info.scale, "meaning": r.info.meaning})
        per_class_metrics = ("n_real", "n_synthetic", "precision", "recall", "density",
                             "coverage", "frechet", "f1_synthetic", "f1_real")
        for c in self.per_class:
            for name in per_class_metrics:
                rows.append({"section": "per_class", "set": c.set, "group": "per_class",
                             "metric": name, "detail": "", "class": c.class_name,
                             "value": getattr(c, name), "low": None, "high": None,
                             "reference": None, "scale": "", "meaning": ""})
        return rows

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=ROW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.to_rows():
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        return buffer.getvalue()

    def table(self) -> list[dict[str, Any]]:
        """One row per metric, one column per set: what the scorecard shows."""
        order = {key: i for i, key in enumerate(METRICS)}
        keys = sorted({(r.metric, r.detail) for r in self.metrics},
                      key=lambda md: (order[md[0]], md[1]))
        out = []
        for metric, detail in keys:
            info = METRICS[metric]
            row: dict[str, Any] = {"metric": info.label + (f" [{detail}]" if detail else ""),
                                   "group": info.group}
            for name in self.sets:
                found = self.metric(name, metric, detail)
                row[name] = _format_value(found)
            row["range"] = info.scale
            row["meaning"] = info.meaning
            out.append(row)
        return out


def _format_value(row: MetricRow | None) -> str:
    if row is None or row.value is None or not np.isfinite(row.value):
        return "n/a"
    large = row.metric in ("frechet", "frechet_frames", "psnr") and abs(row.value) >= 10
    digits = 1 if large else 3
    text = f"{row.value:.{digits}f}"
    if row.low is not None and row.high is not None:
        text += f" ({row.low:.{digits}f}-{row.high:.{digits}f})"
    return text


def save_report(card: Scorecard, path: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write the scorecard as JSON at ``path`` and CSV next to it (same stem)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise InputError(f"report path {str(path)!r} must end in .json; the CSV is written next "
                         "to it")
    csv_path = path.with_suffix(".csv")
    for target in (path, csv_path):
        if target.exists() and not overwrite:
            raise StorageError(f"{target} already exists; choose another name, delete it, or "
                               "pass --overwrite")
    atomic_write_json(path, card.to_dict())
    atomic_write_bytes(csv_path, card.to_csv().encode("utf-8"))
    return {"json": path, "csv": csv_path}


def load_report(path: str | Path) -> Scorecard:
    data = read_json(path)
    if data is None:
        raise StorageError(f"{path}: no such report; run the evaluation again")
    return Scorecard.from_dict(data)


def set_names(refs: Sequence[str]) -> list[str]:
    """Short unique names for synthetic set references (file stems, numbered on clashes)."""
    names: list[str] = []
    for ref in refs:
        base = Path(str(ref)).stem if not str(ref).startswith("builtin:") else str(ref)
        name, i = base, 2
        while name in names or name == REFERENCE:
            name, i = f"{base}-{i}", i + 1
        names.append(name)
    return names


def reports_dir(workspace) -> Path:
    """``reports/`` in the workspace: evaluation reports (JSON + CSV)."""
    path = workspace.root / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path
