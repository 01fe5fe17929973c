"""Sampling: new rows from codes drawn from a prior, by class or for given class counts.

* :func:`sample_class` – codes for chosen classes, ``n_per_class`` each;
* :func:`sample_prior` – ``n`` codes from N(0, I), or from N(mu, diag sigma^2)
  fitted to the data's codes (the deterministic autoencoders have no prior);
* :func:`synthesize` – ``counts[c]`` rows of each class, the right way for the
  model (CVAE class sampling; otherwise within-class interpolation); used by the
  augmentation benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.events import Callback
from synth_core.features import FeatureSet
from synth_core.generation.codes import (_check_count, _check_data, _class_names, _decode,
                                         _encode, _generated, _latent_dim, _training_rows,
                                         resolve_class, run_name)

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

PRIORS = ("auto", "standard", "fitted")

def sample_class(run: "Run", classes: Sequence[int | str], n_per_class: int, *,
                 random_state: int = 0, data: FeatureSet | None = None,
                 callback: Callback | None = None) -> FeatureSet:
    """CVAE by class: ``n_per_class`` standard-normal codes decoded with each class label.

    ``data`` (the real data) is only used to copy attrs (modality, feature shape).
    """
    if not run.is_conditional:
        raise InputError(f"run {run_name(run)} is a {run.config.model.upper()}, not a "
                         "conditional model, so it cannot generate by class; use interpolation "
                         "(within-class pairs) or train a CVAE")
    n_per_class = _check_count(n_per_class, "samples per class")
    idx = [resolve_class(run, c, data=data) for c in classes]
    if not idx:
        raise InputError("no classes chosen; pick at least one class to generate")
    _check_count(n_per_class * len(idx), "samples requested")
    rng = np.random.default_rng(random_state)
    labels = np.repeat(np.asarray(idx, dtype=np.int64), n_per_class)  # [C * n]
    Z = rng.standard_normal((len(labels), _latent_dim(run)))  # [C * n, latent]
    features = _decode(run, Z, labels, callback=callback)
    ids = [f"class-{c}-{k}" for c in idx for k in range(n_per_class)]
    return _generated(run, data, features, labels, np.full((len(labels), 2), -1),
                      mode="class", seed=random_state, ids=ids,
                      extra={"n_per_class": n_per_class})


def sample_prior(run: "Run", n: int, *, data: FeatureSet | None = None, random_state: int = 0,
                 prior: str = "auto", callback: Callback | None = None) -> FeatureSet:
    """``n`` codes from the prior, decoded.

    ``prior="standard"`` draws from N(0, I) (what a VAE was trained towards);
    ``"fitted"`` from N(mu, diag sigma^2) fitted to the codes of ``data`` (the
    deterministic autoencoders have no prior, so ``"auto"`` picks this for
    them). A CVAE gets a random class per sample; other models label -1.
    """
    if prior not in PRIORS:
        raise InputError(f"prior = {prior!r}; choose one of {', '.join(PRIORS)}")
    n = _check_count(n, "number of prior samples")
    rng = np.random.default_rng(random_state)
    if prior == "auto":
        prior = "standard" if run.is_variational else "fitted"
    k = len(_class_names(run, data))
    labels = (rng.integers(0, k, n).astype(np.int64) if run.is_conditional and k
              else np.full(n, -1, dtype=np.int64))
    if prior == "fitted":
        if data is None:
            raise InputError(f"a fitted prior needs the codes of real data, and run "
                             f"{run_name(run)} is not variational; pass data= (the training "
                             "data) or prior='standard'")
        _check_data(run, data)
        rows = _training_rows(run, data)
        mu = _encode(run, data.features[rows], data.labels[rows], codes="mean",
                     rng=rng)  # [N_train, latent]
        center, scale = mu.mean(axis=0), mu.std(axis=0)
        Z = center + scale * rng.standard_normal((n, mu.shape[1]))
    else:
        Z = rng.standard_normal((n, _latent_dim(run)))
    features = _decode(run, Z, labels, callback=callback)
    return _generated(run, data, features, labels, np.full((n, 2), -1), mode="prior",
                      seed=random_state, ids=[f"prior-{i}" for i in range(n)],
                      extra={"prior": prior})


def synthesize(run: "Run", data: FeatureSet, counts: dict[int, int], *, random_state: int = 0,
               callback: Callback | None = None) -> FeatureSet:
    """``counts[c]`` new samples of each class ``c``, the right way for the model.

    A CVAE samples by class; any other model interpolates between random pairs
    of the class's rows at random interior t (uniform in (0, 1)). Used by the
    augmentation benchmark.
    """
    counts = {resolve_class(run, c, data=data): _check_count(n, f"count for class {c}", minimum=0)
              for c, n in counts.items()}
    counts = {c: n for c, n in counts.items() if n > 0}
    if not counts:
        raise InputError("counts asks for 0 samples; give at least one class a positive count")
    if run.is_conditional:
        rng = np.random.default_rng(random_state)
        labels = np.concatenate([np.full(n, c, dtype=np.int64) for c, n in counts.items()])
        Z = rng.standard_normal((len(labels), _latent_dim(run)))
        features = _decode(run, Z, labels, callback=callback)
        return _generated(run, data, features, labels, np.full((len(labels), 2), -1),
                          mode="class", seed=random_state,
                          ids=[f"class-{c}-{k}" for c, n in counts.items() for k in range(n)])
    _check_data(run, data)
    rng = np.random.default_rng(random_state)
    pair_rows, t_all, labels = [], [], []
    for c, n in counts.items():
        rows = np.flatnonzero(data.labels == c)
        if len(rows) < 2:
            raise InputError(f"class {c} has {len(rows)} row(s) in the data; interpolation "
                             "needs at least 2; leave it out of counts")
        for _ in range(n):
            pair_rows.append(rng.choice(rows, size=2, replace=False))
        t_all.append(rng.uniform(0.0, 1.0, n))
        labels.append(np.full(n, c, dtype=np.int64))
    parents = np.asarray(pair_rows, dtype=np.int64)  # [N, 2]
    t_arr = np.concatenate(t_all)
    ends = parents.reshape(-1)
    Z = _encode(run, data.features[ends], data.labels[ends], codes="mean", rng=rng)
    Z = Z.reshape(len(parents), 2, -1)  # [N, 2, latent]
    codes = Z[:, 0] + (Z[:, 1] - Z[:, 0]) * t_arr[:, None]  # [N, latent]
    label_arr = np.concatenate(labels)
    features = _decode(run, codes, label_arr, callback=callback)
    ids = [f"interp-{p[0]}-{p[1]}-t{t:.3f}" for p, t in zip(parents, t_arr)]
    return _generated(run, data, features, label_arr, parents, mode="interpolate",
                      seed=random_state, ids=ids, extra={"path": "linear", "t": "random"})


