"""Generation as one call: a :class:`GenerateConfig`, :func:`generate` and the background job.

The CLI flags, the Generate page's form and job params all become one
:class:`GenerateConfig`; :func:`generate` dispatches it to the way of
generating it names (:mod:`.interpolation`: one pair or the batch protocol;
:mod:`.sampling`: by class, from the prior, or for class counts). Every result
is a :class:`FeatureSet` in the original feature scale with ``/parents`` [N, 2]
(data rows of the two end points, -1 where there are none) and provenance attrs
(``model_run``, ``mode``, ``seed``, plus ``class_names``, ``feature_shape`` and
``modality`` copied from the real data). :func:`generate_job` is the
``"generate"`` job: it saves the rows under ``exports/`` (:mod:`.export`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.generation.codes import (_check_count, _class_names, check_output,
                                         load_run_data, resolve_output)
from synth_core.generation.export import default_export_name, save_generated
from synth_core.generation.interpolation import _check_path, batch_protocol, interpolate_pair
from synth_core.generation.sampling import (check_prior, class_balance, resolve_prior,
                                            sample_class, sample_counts, sample_prior,
                                            synthesize)
from synth_core.workspace import Workspace

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

logger = logging.getLogger(__name__)

MODES = ("protocol", "pair", "class", "prior", "synthesize")
# Above this many rows the page runs generation as a background job (and warns).
LARGE_REQUEST = 5_000

# --------------------------------------------------------------------------- one config, one call


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate; the CLI flags, the page's form and job params all become one.

    ``mode``: ``protocol`` (batch protocol; ``cross`` for pairs across two
    classes), ``pair`` (rows ``from_index`` -> ``to_index`` at ``t``, default
    ``steps`` evenly spaced values including the ends), ``class`` (``per_class``
    per class in ``classes``, default all; or with ``balance`` > 0 that many rows
    in total, shared out in the real class proportions), ``prior`` (``n_prior``).
    ``prior`` says where sampled codes come from (normal, mixture, posterior, fitted, auto;
    :mod:`.sampling`); ``output`` whether rows are the decoded means or draws
    from the decoder's distribution (mean, sample).
    """

    mode: str = "protocol"
    pairs: int = 8
    steps: int = 12
    from_index: int | None = None
    to_index: int | None = None
    t: tuple[float, ...] = ()
    per_class: int = 80
    classes: tuple[int, ...] | None = None
    n_prior: int = 100
    prior: str = "auto"
    cross: tuple[int, int] | None = None
    path: str = "linear"
    codes: str = "mean"
    output: str = "auto"   # class/prior rows: decoder draws when the run can; paths: means
    balance: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode = {self.mode!r}; choose one of {', '.join(MODES)}")
        _check_path(self.path)
        check_output(self.output)
        object.__setattr__(self, "prior", check_prior(self.prior))
        if self.balance:
            _check_count(self.balance, "balance (total samples)")
            if self.mode != "class":
                raise InputError("balance shares a total out over the classes, so it goes with "
                                 f"class sampling, not mode {self.mode!r}")
        if self.mode == "pair" and (self.from_index is None or self.to_index is None):
            raise InputError("interpolating one pair needs both end points: give --from I and "
                             "--to J (data row numbers)")

    def n_requested(self, n_classes: int) -> int:
        """How many rows this config makes (to warn before large requests)."""
        k = len(self.classes) if self.classes else n_classes
        if self.mode == "protocol":
            return self.pairs * (self.steps - 2) * (1 if self.cross else k)
        if self.mode == "pair":
            return len(self.t) or self.steps
        if self.mode == "class":
            return self.balance or self.per_class * k
        if self.mode == "prior":
            return self.n_prior
        return 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> "GenerateConfig":
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("t", "classes", "cross"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        return cls(**known)


def generate(run: "Run", data: FeatureSet | None, config: GenerateConfig, *,
             callback: Callback | None = None) -> FeatureSet:
    """Run ``config`` on ``run``; ``data`` is the real data (None only for class/prior)."""
    if config.mode in ("protocol", "pair", "synthesize") and data is None:
        raise InputError(f"mode {config.mode!r} picks real samples, so it needs the run's data")
    if config.mode in ("protocol", "pair") and config.output == "auto":
        config = replace(config, output=path_output(run, config.mode))
    if config.mode == "protocol":
        return batch_protocol(run, data, pairs_per_class=config.pairs, steps=config.steps,
                              random_state=config.seed, classes=config.classes,
                              cross=config.cross, path=config.path, codes=config.codes,
                              output=config.output, callback=callback)
    if config.mode == "pair":
        t = config.t or tuple(np.linspace(0.0, 1.0, _check_count(config.steps, "steps", minimum=2)))
        return interpolate_pair(run, data, config.from_index, config.to_index, t=t,
                                path=config.path, codes=config.codes, random_state=config.seed,
                                output=config.output)
    if config.mode == "class" and config.balance:
        if data is None:
            raise InputError("balance follows the real class proportions, so it needs the run's "
                             "data; restore it or pass --data F.h5")
        counts = class_balance(run, data, config.balance, classes=config.classes)
        left_out = [c for c, n in counts.items() if n == 0]
        if left_out:
            emit(callback, Log(
                f"{config.balance} rows shared out in the real class proportions give none to "
                f"{len(left_out)} class(es) with too few training rows for that total: "
                f"{_shown_classes(run, data, left_out)}; ask for more rows, or give every "
                "class rows with a count per class (--per-class N)", level="warning"))
        return sample_counts(run, counts, data=data, random_state=config.seed,
                             prior=config.prior, output=config.output, callback=callback,
                             balanced=True)
    if config.mode == "class":
        classes = config.classes if config.classes else range(len(_class_names(run, data)))
        return sample_class(run, list(classes), config.per_class, random_state=config.seed,
                            data=data, callback=callback, prior=config.prior,
                            output=config.output)
    if config.mode == "prior":
        rows = sample_prior(run, config.n_prior, data=data, random_state=config.seed,
                            prior=config.prior, output=config.output, callback=callback)
        drawn = set(rows.labels.tolist())
        missing = [c for c in range(len(_class_names(run, data))) if c not in drawn]
        if drawn - {-1} and missing:  # labelled draws that skipped a class: say which
            emit(callback, Log(
                f"{config.n_prior} rows drawn from the prior have none of {len(missing)} "
                f"class(es): {_shown_classes(run, data, missing)} (the draw follows the "
                "training rows' classes, and these are rare or unlucky); ask for more rows, or "
                "generate by class (--per-class N) to give every class rows", level="warning"))
        return rows
    classes = config.classes if config.classes else range(len(_class_names(run, data)))
    return synthesize(run, data, {c: config.per_class for c in classes},
                      random_state=config.seed, callback=callback, prior=config.prior,
                      output=config.output)


def _shown_classes(run: "Run", data: FeatureSet | None, classes: list[int]) -> str:
    """The first five of ``classes`` by name ("'siren', 'dog' and 3 more"), for warnings."""
    names = _class_names(run, data)
    shown = ", ".join(repr(names[c]) if 0 <= c < len(names) else str(c) for c in classes[:5])
    return shown + (f" and {len(classes) - 5} more" if len(classes) > 5 else "")


def path_output(run: "Run", mode: str) -> str:
    """What interpolated rows are with no choice made (``output="auto"``).

    One pair's path (``pair``) shows what the decoder makes of each code: its means. The
    batch protocol makes rows to use, so it draws from the decoder where the run can, as
    class and prior rows do (``benchmarks/quality.py``: interpolated draws are what the
    default VAE's rows are), except on a run with the thesis's decoder, whose protocol
    decoded means, as the thesis did. The Generate page preselects the same.
    """
    if mode == "pair" or getattr(getattr(run, "config", None), "decoder", None) == "thesis":
        return "mean"
    return resolve_output(run, "auto")


# Decoded means on lines between random pairs of a class's rows spread about sqrt(2/3) ~ 0.8x
# the class when the decoder reconstructs its rows (a uniform t between two rows keeps 2/3 of
# their variance); the default VAE's paths read 0.58-0.71 on the embedded digits, demo sounds
# and spectrograms, 0.001-0.21 where its code went unused. Below 0.4 the code explains little.
PATH_SPREAD_FLOOR = 0.4


def path_spread_warning(generated: FeatureSet, data: FeatureSet | None) -> str | None:
    """A warning when the batch protocol's rows (decoded means) barely move along their paths.

    A model whose code carries little of the data (columns nearly independent of each
    other, or a code that collapsed) decodes every point of every path to nearly the
    same row, although its draws may spread like the data. Judged as the scorecard's
    spread ratio (median over features of the generated rows' std over the real rows',
    within classes where both are labelled). None for other modes, draws, paths across
    two classes, or when there are too few rows to tell.
    """
    from synth_core.evaluation.metrics import feature_agreement

    attrs = generated.attrs
    if (data is None or attrs.get("mode") != "interpolate" or attrs.get("output") != "mean"
            or "pairs_per_class" not in attrs or attrs.get("cross")):
        return None
    try:
        agreement = feature_agreement(data, generated)
    except InputError:
        return None
    ratio = agreement.median_std_ratio
    if not np.isfinite(ratio) or ratio >= PATH_SPREAD_FLOOR:
        return None
    within = " within each class" if agreement.within_class else ""
    run = Path(str(attrs.get("model_run", "this run"))).name
    return (f"the {generated.n_samples} interpolated rows of run {run} are decoded means and "
            f"spread {ratio:.2f}x as much as the real rows{within} (median per-feature std "
            "ratio; paths between real rows give about 0.8x): the model's code explains "
            "little of the rows' variation (nearly independent columns, or a collapsed "
            "code), so the paths all look alike. Draw rows from the decoder instead "
            "(Rows: Drawn from the decoder on the Generate page; --output sample), or "
            "generate by class")


# --------------------------------------------------------------------------- the background job


def generate_job(params: dict[str, Any], ctx: Callback) -> dict[str, Any]:
    """Job body: ``{"run": RUN_DIR, "config": {...}, "name": NAME, "data": REF (optional)}``.

    Saves to ``exports/<name>.h5`` (a free name) and returns the path and counts.
    """
    from synth_core.data.datasets import load_dataset
    from synth_core.training.runs import Run

    workspace: Workspace = ctx.workspace  # type: ignore[attr-defined]
    config = GenerateConfig.from_dict(params.get("config", {}))
    run_dir = params.get("run")
    if not run_dir or not Path(run_dir).is_dir():
        raise StorageError(f"run folder {run_dir!r} not found; pick a trained run on the "
                           "Generate page or train one on the Train page")
    emit(ctx, Progress(0.0, f"loading run {Path(run_dir).name}", "loading"))
    run = Run.load(run_dir, device="cpu")
    data = (load_dataset(params["data"], workspace) if params.get("data")
            else run_data_or_none(run, workspace, config, ctx))
    generated = generate(run, data, config, callback=ctx)
    warning = path_spread_warning(generated, data)
    if warning:
        emit(ctx, Log(warning, level="warning"))
    name = params.get("name") or default_export_name(run, config)
    path = save_generated(generated, workspace, name)
    return {"path": str(path), "n_samples": generated.n_samples, "mode": config.mode,
            "message": f"saved {generated.n_samples} samples to exports/{path.name}",
            "warnings": [warning] if warning else []}


def run_data_or_none(run: "Run", workspace: Workspace, config: GenerateConfig,
                     callback: Callback | None) -> FeatureSet | None:
    """The run's data; for modes that do not need it, None (with a warning) when it is gone."""
    try:
        return load_run_data(run, workspace)
    except StorageError as exc:
        prior = resolve_prior(run, config.prior, by_class=config.mode == "class", data=None)
        needs_data = (config.mode in ("protocol", "pair", "synthesize") or bool(config.balance)
                      or (config.mode in ("class", "prior")
                          and prior in ("fitted", "mixture", "posterior")))
        if needs_data:
            raise
        emit(callback, Log(f"{exc}; generating anyway without copying the data's attributes",
                           level="warning"))
        return None
