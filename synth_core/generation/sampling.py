"""Sampling: new rows from codes drawn from a prior, by class, for class counts or in bulk.

Where the codes come from (``prior``):

* ``"normal"`` – N(0, I), what a VAE was trained towards (``"standard"`` is
  the same, the name older versions used);
* ``"mixture"`` – the aggregate posterior: a Gaussian mixture fitted on the
  encoded training rows, one per class where there are labels (Ghosh et al.;
  :class:`~synth_core.generation.priors.CodeMixture`). Codes from a class's
  mixture decode to that class even for an unconditional VAE;
* ``"posterior"`` – the aggregate posterior itself, q(z) = (1/N) sum_i q(z|x_i): a
  random training row of the class, then one draw from the encoder's posterior for it
  (variational models only). Rows land around real rows, so they cover the data better
  than the mixture's, and sit nearer to them. With many rows a class that is what a
  CVAE does best (``benchmarks/quality.py``, seeds 0-2, mixture -> posterior: the
  street-sounds fold protocol on 37 hand-crafted features TSTR/TRTR 0.99x -> 0.96x,
  detection AUC 0.86 -> 0.69; on the 512 log-mel numbers 0.88x -> 0.90x, 0.80 -> 0.68;
  digits 0.98 -> 0.99x, 0.72 -> 0.65), with few it is not: on the leukemia-like table
  (17 rows in a class) its rows trained an MLP to 0.77 instead of 0.86, and codes
  around each of a handful of rows train a classifier worse than a Gaussian fitted to
  them. So ``auto`` takes it for a CVAE whose classes all have at least
  :data:`POSTERIOR_MIN_CLASS_ROWS` training rows;
* ``"fitted"`` – N(mu, diag sigma^2) fitted to the training rows' codes (the
  deterministic autoencoders have no prior);
* ``"auto"`` – for a CVAE by class the posterior when every class has at least
  :data:`POSTERIOR_MIN_CLASS_ROWS` training rows, else the mixture; the mixture for
  every other variational model; either needs the training data at hand (else N(0, I),
  recorded in the provenance); fitted for autoencoders.
  Measured in ``benchmarks/quality.py`` (3 seeds): a CVAE's class rows from
  N(0, I) reached 0.70x the real-trained accuracy on the demo sounds, from the
  mixture 0.97-1.00x, because the codes of real rows do not fill N(0, I).

What is decoded (``output``): the decoder's mean, or a draw from its
distribution around the mean (``"sample"``); ``"auto"`` draws when the run can
(:func:`~synth_core.generation.codes.resolve_output`). Functions:

* :func:`sample_class` – ``n_per_class`` rows of each chosen class;
* :func:`sample_counts` – ``counts[c]`` rows of each class (:func:`class_balance`
  gives counts in the real class proportions for a total);
* :func:`sample_prior` – ``n`` codes, decoded;
* :func:`synthesize` – ``counts[c]`` rows of each class, the right way for the
  model (CVAE class sampling; otherwise within-class interpolation, or the
  ``prior`` given); used by the augmentation benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from synth_core.errors import InputError
from synth_core.events import Callback, Progress, emit
from synth_core.features import FeatureSet
from synth_core.generation.codes import (_check_count, _check_data, _class_names, _decode,
                                         _encode, _fitted_rows, _generated, _latent_dim,
                                         _training_rows, check_output, resolve_class, run_name)
from synth_core.generation.priors import CodeMixture, share_out

PAIRS = ("near", "random")   # synthesize(): how a VAE's interpolation pairs are chosen
PAIR_NEIGHBOURS = 5          # "near": the nearest rows of the class a row may pair with

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from synth_core.training.runs import Run

PRIORS = ("auto", "normal", "mixture", "posterior", "fitted")
_ALIASES = {"standard": "normal"}
# "auto" draws a CVAE's class rows from the posterior of its training rows when every class
# has at least this many (module docstring): breast cancer's and digits' training classes
# (148+, 125+ rows) and the fold protocols' (65) do, wine's (41), iris's (35), the demo
# sounds' (14) and the leukemia-like table's (17) do not. On wine and iris the mixture
# was also measured a little better (AUC 0.45 / 0.47 against 0.43 / 0.43).
POSTERIOR_MIN_CLASS_ROWS = 50


def check_prior(prior: str) -> str:
    """``prior`` with old names mapped to current ones; refuses unknown names."""
    prior = _ALIASES.get(prior, prior)
    if prior not in PRIORS:
        raise InputError(f"prior = {prior!r}; choose one of {', '.join(PRIORS)} (normal: N(0, I); "
                         "mixture: a Gaussian mixture fitted on the training codes; posterior: "
                         "the encoder's posterior of a random training row)")
    return prior


def resolve_prior(run: "Run", prior: str, *, by_class: bool,
                  data: FeatureSet | None = None) -> str:
    """The prior ``"auto"`` stands for with this run; others unchanged.

    ``"auto"``: the mixture of the training codes when ``data`` is there (by class
    it is the only prior an unconditional model can use), N(0, I) for a
    variational model without it, the fitted Gaussian for autoencoders; for a CVAE
    by class whose training classes all hold :data:`POSTERIOR_MIN_CLASS_ROWS` rows
    or more, the posterior of its training rows.
    """
    prior = check_prior(prior)
    if prior != "auto":
        return prior
    if by_class and not run.is_conditional:
        return "mixture"
    if not run.is_variational:
        return "fitted"
    if data is None:
        return "normal"
    if by_class and run.is_conditional:
        return class_codes_prior(smallest_class_rows(run, data))
    return "mixture"


def class_codes_prior(smallest_class_rows: int) -> str:
    """Where "auto" takes a CVAE's class codes from, given its smallest class's training
    rows: the posterior of those rows, or their mixture (module docstring). The training's
    collapse check asks the same question."""
    return "posterior" if smallest_class_rows >= POSTERIOR_MIN_CLASS_ROWS else "mixture"


def smallest_class_rows(run: "Run", data: FeatureSet) -> int:
    """Training rows of the run's smallest class in ``data`` (0 when rows are unlabelled)."""
    labels = data.labels[_training_rows(run, data)]
    if not len(labels) or (labels < 0).any():
        return 0
    counts = np.bincount(labels)
    return int(counts[counts > 0].min())


def _need_data(run: "Run", data: FeatureSet | None, prior: str) -> FeatureSet:
    if data is None:
        raise InputError(f"the {prior} prior comes from the codes of the real training rows, "
                         f"and the data of run {run_name(run)} is not available; pass data= (the "
                         "training data; --data F.h5 on the CLI) or use the normal prior")
    _check_data(run, data)
    return data


def _training_codes(run: "Run", data: FeatureSet, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means [N_train, latent] of the run's training rows and their labels [N_train]."""
    rows = _training_rows(run, data)
    labels = data.labels[rows]
    if run.is_conditional and (labels < 0).any():
        raise InputError("a conditional model (CVAE) encodes with the class label, but the "
                         f"training data has {int((labels < 0).sum())} unlabelled row(s); use the "
                         "labelled dataset the model was trained on")
    return _encode(run, data.features[rows], labels, codes="mean", rng=rng), labels


def fit_code_mixture(run: "Run", data: FeatureSet, *, random_state: int = 0) -> CodeMixture:
    """The aggregate posterior of ``run``: a :class:`CodeMixture` fitted on its training codes,
    one mixture per class when the training rows are labelled."""
    Z, labels = _training_codes(run, _need_data(run, data, "mixture"),
                                np.random.default_rng(random_state))
    labelled = bool(len(labels)) and bool((labels >= 0).all())
    return CodeMixture(random_state=random_state).fit(Z, labels if labelled else None)


def _posterior_codes(run: "Run", data: FeatureSet | None, counts: Mapping[int, int] | int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Codes from the aggregate posterior itself: for each code a random training row (of
    the class, for counts per class; of all rows, in their proportions, for a number), then
    one draw from q(z|x) of that row. Labels are the rows' classes."""
    if not run.is_variational:
        raise InputError(f"run {run_name(run)} is a deterministic autoencoder: its encoder gives "
                         "one code per row and no posterior to draw from, so those codes would "
                         "decode to copies of the training rows; use the fitted or mixture prior")
    data = _need_data(run, data, "posterior")
    rows = _training_rows(run, data)
    labels = data.labels[rows]
    if isinstance(counts, Mapping):
        if (labels < 0).any():
            raise InputError("the training rows are unlabelled, so the posterior prior has no "
                             "classes to draw by; ask for a number of samples instead of counts "
                             "per class")
        picks = []
        for c, n in counts.items():
            mine = rows[labels == c]
            if not len(mine):
                raise InputError(f"class {c} has no training rows in run {run_name(run)}, so "
                                 "the posterior prior has nothing to draw it from; leave it out")
            picks.append(rng.choice(mine, size=n, replace=True))
        picked = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
    else:
        picked = rng.choice(rows, size=int(counts), replace=True)
    picked_labels = data.labels[picked].astype(np.int64)
    Z = _encode(run, data.features[picked], picked_labels, codes="sample", rng=rng)
    return Z, picked_labels


def _draw_codes(run: "Run", data: FeatureSet | None, prior: str,
                counts: Mapping[int, int] | int, rng: np.random.Generator, random_state: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels: ``counts`` per class (a mapping) or ``counts`` unlabelled (an int;
    a CVAE then gets a random class per code, a per-class mixture or the posterior their
    class proportions)."""
    if prior == "posterior":
        return _posterior_codes(run, data, counts, rng)
    if prior == "mixture":
        mixture = fit_code_mixture(run, data, random_state=random_state)
        if isinstance(counts, Mapping) and mixture.classes_ == [-1]:
            raise InputError("the training rows are unlabelled, so the mixture has no classes to "
                             "draw by; ask for a number of samples instead of counts per class")
        return mixture.sample(counts, random_state=int(rng.integers(2**31)))
    if isinstance(counts, Mapping):
        if not run.is_conditional:
            raise InputError(
                f"run {run_name(run)} is a {run.config.model.upper()}, not a conditional model: "
                f"codes from the {prior} prior carry no class, so it cannot generate by class "
                "that way; use the mixture prior (--prior-kind mixture: codes from each class's "
                "training codes) or train a CVAE")
        labels = np.concatenate([np.full(n, c, dtype=np.int64) for c, n in counts.items()])
    else:
        k = len(_class_names(run, data))
        labels = (rng.integers(0, k, counts).astype(np.int64) if run.is_conditional and k
                  else np.full(counts, -1, dtype=np.int64))
    n = len(labels)
    if prior == "fitted":
        mu, _ = _training_codes(run, _need_data(run, data, "fitted"), rng)
        Z = mu.mean(axis=0) + mu.std(axis=0) * rng.standard_normal((n, mu.shape[1]))
    else:
        Z = rng.standard_normal((n, _latent_dim(run)))
    return Z, labels


def class_balance(run: "Run", data: FeatureSet, total: int, *,
                  classes: Sequence[int | str] | None = None) -> dict[int, int]:
    """``total`` rows shared out over ``classes`` (default all) in the real class proportions
    of the run's training rows (of all rows of ``data`` when the run recorded no split)."""
    total = _check_count(total, "total samples")
    _check_data(run, data)
    rows = _fitted_rows(run, data)
    labels = data.labels[rows] if rows is not None else data.labels
    chosen = (sorted({int(c) for c in labels if c >= 0}) if classes is None
              else [resolve_class(run, c, data=data) for c in classes])
    if not chosen:
        raise InputError(f"run {run_name(run)}: its training rows have no class labels, so "
                         "there is no class balance to follow; sample the prior instead "
                         "(--prior N)")
    share = {c: float((labels == c).sum()) for c in chosen}
    empty = [c for c, v in share.items() if v == 0]
    if len(empty) == len(chosen):
        raise InputError(f"none of the chosen classes {chosen} has training rows; pick classes "
                         "that do")
    return share_out(total, share)


def sample_counts(run: "Run", counts: Mapping[int | str, int], *, data: FeatureSet | None = None,
                  random_state: int = 0, prior: str = "auto", output: str = "auto",
                  callback: Callback | None = None, balanced: bool = False) -> FeatureSet:
    """``counts[c]`` decoded rows of each class ``c`` (by index or name), codes from ``prior``."""
    check_output(output)
    prior = resolve_prior(run, prior, by_class=True, data=data)
    counts = {resolve_class(run, c, data=data): _check_count(n, f"count for class {c}", minimum=0)
              for c, n in counts.items()}
    counts = {c: n for c, n in counts.items() if n > 0}
    if not counts:
        raise InputError("counts asks for 0 samples; give at least one class a positive count")
    total = _check_count(sum(counts.values()), "samples requested")
    rng = np.random.default_rng(random_state)
    emit(callback, Progress(0.0, f"drawing {total} codes ({prior} prior)", "codes"))
    Z, labels = _draw_codes(run, data, prior, counts, rng, random_state)
    features = _decode(run, Z, labels, callback=callback, output=output,
                       random_state=random_state)
    seen: dict[int, int] = {}
    ids = []
    for c in labels.tolist():
        ids.append(f"class-{c}-{seen.get(c, 0)}")
        seen[c] = seen.get(c, 0) + 1
    extra = {"prior": prior, "counts": {str(c): n for c, n in counts.items()}}
    if balanced:
        extra["balance"] = "real class proportions"
    return _generated(run, data, features, labels, np.full((len(labels), 2), -1),
                      mode="class", seed=random_state, ids=ids, output=output, extra=extra)


def sample_class(run: "Run", classes: Sequence[int | str], n_per_class: int, *,
                 random_state: int = 0, data: FeatureSet | None = None,
                 callback: Callback | None = None, prior: str = "auto",
                 output: str = "auto") -> FeatureSet:
    """``n_per_class`` decoded rows of each class in ``classes``.

    A CVAE decodes codes with the class label; by default (``prior="auto"``)
    every model draws each class's codes from its training codes' mixture (a CVAE
    whose classes all have :data:`POSTERIOR_MIN_CLASS_ROWS` training rows from their
    posterior instead), which needs ``data`` (without it a CVAE draws from N(0, I)).
    ``data`` also gives the attrs copied to the result.
    """
    n_per_class = _check_count(n_per_class, "samples per class")
    idx = [resolve_class(run, c, data=data) for c in classes]
    if not idx and not _class_names(run, data):
        # Reached with every class of a run trained on unlabelled rows, which is none.
        raise InputError(f"run {run_name(run)}: was trained on rows without class labels, so "
                         "there are no classes to generate per class; sample the prior instead "
                         "(--prior N), or label the data and train again")
    if not idx:
        raise InputError("no classes chosen; pick at least one class to generate")
    _check_count(n_per_class * len(idx), "samples requested")
    out = sample_counts(run, {c: n_per_class for c in idx}, data=data, random_state=random_state,
                        prior=prior, output=output, callback=callback)
    out.attrs["n_per_class"] = n_per_class
    return out


def sample_prior(run: "Run", n: int, *, data: FeatureSet | None = None, random_state: int = 0,
                 prior: str = "auto", output: str = "auto",
                 callback: Callback | None = None) -> FeatureSet:
    """``n`` codes from the prior, decoded.

    ``"normal"`` draws from N(0, I); ``"fitted"`` from N(mu, diag sigma^2) of the
    training codes; ``"mixture"`` from their Gaussian mixture (per class when
    labelled: the rows then follow the real class proportions). A CVAE gets a
    random class per sample from the normal and fitted priors; other models
    label -1 unless the mixture gives a class.
    """
    check_output(output)
    prior = resolve_prior(run, prior, by_class=False, data=data)
    n = _check_count(n, "number of prior samples")
    rng = np.random.default_rng(random_state)
    Z, labels = _draw_codes(run, data, prior, n, rng, random_state)
    features = _decode(run, Z, labels, callback=callback, output=output,
                       random_state=random_state)
    return _generated(run, data, features, labels, np.full((n, 2), -1), mode="prior",
                      seed=random_state, ids=[f"prior-{i}" for i in range(n)], output=output,
                      extra={"prior": prior})


def synthesize(run: "Run", data: FeatureSet, counts: dict[int, int], *, random_state: int = 0,
               callback: Callback | None = None, prior: str = "auto",
               output: str = "auto", pairs: str = "near") -> FeatureSet:
    """``counts[c]`` new samples of each class ``c``, the right way for the model.

    ``prior="auto"``: a CVAE samples by class as :func:`resolve_prior` says (the
    posterior of its training rows with 50+ rows a class, else its codes' mixture); any
    other model interpolates between pairs of the class's rows at random interior t
    (uniform in (0, 1)). ``pairs="near"`` (default) pairs a random row of the class with
    one of its :data:`PAIR_NEIGHBOURS` nearest rows of the class in code space, SMOTE's
    way but on the codes; ``"random"`` pairs any two rows of the class, whose line can
    cross the empty space between two modes of one class. Another ``prior`` samples
    codes from it by class (:func:`sample_counts`). Used by the augmentation benchmark.
    """
    if check_prior(prior) != "auto" or run.is_conditional:
        return sample_counts(run, counts, data=data, random_state=random_state, prior=prior,
                             output=output, callback=callback)
    check_output(output)
    if pairs not in PAIRS:
        raise InputError(f"pairs = {pairs!r}; choose one of {', '.join(PAIRS)}")
    counts = {resolve_class(run, c, data=data): _check_count(n, f"count for class {c}", minimum=0)
              for c, n in counts.items()}
    counts = {c: n for c, n in counts.items() if n > 0}
    if not counts:
        raise InputError("counts asks for 0 samples; give at least one class a positive count")
    _check_data(run, data)
    rng = np.random.default_rng(random_state)
    pair_rows, pair_codes, t_all, labels = [], [], [], []
    for c, n in counts.items():
        rows = np.flatnonzero(data.labels == c)
        if len(rows) < 2:
            raise InputError(f"class {c} has {len(rows)} row(s) in the data; interpolation "
                             "needs at least 2; leave it out of counts")
        if pairs == "near":  # every row's code, to find neighbours; the pairs' come with them
            class_codes = _encode(run, data.features[rows], data.labels[rows], codes="mean",
                                  rng=rng)
            first = rng.integers(0, len(rows), n)
            pair = np.stack([first, near_partners(class_codes, first, rng)], axis=1)
            pair_codes.append(class_codes[pair])
        else:  # only the pairs' ends need encoding
            pair = np.array([rng.choice(len(rows), size=2, replace=False) for _ in range(n)])
            ends = rows[pair].reshape(-1)
            pair_codes.append(_encode(run, data.features[ends], data.labels[ends],
                                      codes="mean", rng=rng).reshape(n, 2, -1))
        pair_rows.append(rows[pair])
        t_all.append(rng.uniform(0.0, 1.0, n))
        labels.append(np.full(n, c, dtype=np.int64))
    parents = np.concatenate(pair_rows).astype(np.int64)  # [N, 2]
    t_arr = np.concatenate(t_all)
    Z = np.concatenate(pair_codes)  # [N, 2, latent]
    codes = Z[:, 0] + (Z[:, 1] - Z[:, 0]) * t_arr[:, None]  # [N, latent]
    label_arr = np.concatenate(labels)
    features = _decode(run, codes, label_arr, callback=callback, output=output,
                       random_state=random_state)
    ids = [f"interp-{p[0]}-{p[1]}-t{t:.3f}" for p, t in zip(parents, t_arr)]
    return _generated(run, data, features, label_arr, parents, mode="interpolate",
                      seed=random_state, ids=ids, output=output,
                      extra={"path": "linear", "t": "random", "pairs": pairs,
                             **({"pair_neighbours": PAIR_NEIGHBOURS} if pairs == "near" else {})})


def near_partners(codes: np.ndarray, first: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row number in ``first``, one of its :data:`PAIR_NEIGHBOURS` nearest other
    rows of ``codes`` (at random); ``codes`` has at least 2 rows. Also the training's
    collapse check, so that it judges the rows Generate makes."""
    from sklearn.neighbors import NearestNeighbors

    k = min(PAIR_NEIGHBOURS, len(codes) - 1)
    near = NearestNeighbors(n_neighbors=k + 1).fit(codes).kneighbors(
        codes, return_distance=False)
    # A row is its own nearest neighbour, except among duplicate codes: drop it wherever it is.
    others = np.array([[j for j in row if j != i][:k] for i, row in enumerate(near)])
    return others[first, rng.integers(0, k, len(first))]


