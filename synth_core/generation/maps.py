"""Maps of real and generated data: t-SNE (openTSNE and scikit-learn) and PCA.

Compute-then-draw, as Optuna's visualisation modules do: :func:`fit_map` fits a
2-d map of the real rows once (cached in the workspace by a content hash) and
returns a :class:`RealMap` whose :meth:`RealMap.place` puts new rows onto that
fixed map (openTSNE's ``transform`` for t-SNE, the projection for PCA), so the
real points stay where they are between generations. :func:`joint_tsne` is the
thesis's scikit-learn t-SNE of real and generated rows together. Both give a
:class:`MapData` record, which :mod:`.figures` draws; :func:`latent_map` maps a
trained model's latent means; :mod:`.map_jobs` stores maps in the workspace.

A slider (the Generate page) uses it like this::

    real_map = fit_map(real, method="tsne", cache_dir=ws.cache_dir)  # cached after the first call
    fig = map_figure(real_map.map_data())
    add_marker(fig, real_map.place(x_new[None]))                     # one step, ~tens of ms
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from synth_core.errors import InputError, StorageError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet, array_digest
from synth_core.generation.neighbors import knn
from synth_core.workspace import atomic_write_bytes


logger = logging.getLogger(__name__)

MAP_METHODS = ("tsne", "pca")                     # fit_map: a fixed real map + placement
ALL_METHODS = ("tsne", "joint-tsne", "pca")       # map_job / CLI: plus the thesis's joint t-SNE
METHOD_LABELS = {
    "tsne": "t-SNE, real map fixed (openTSNE, generated rows placed)",
    "joint-tsne": "joint t-SNE of real + generated (scikit-learn, as in the thesis)",
    "pca": "PCA (fast, linear)",
}
REAL, GENERATED = "real", "generated"
_CACHE_VERSION = 1

# Seconds per row on one core, measured by benchmarks/explore.py (7077 x 512 rows);
# only used to warn before a long run.
_SECONDS_PER_ROW_CORE = {"tsne": 0.006, "joint-tsne": 0.012, "pca": 0.00002}


def _default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


_MIN_ROWS_PER_THREAD = 2000


def _threads(n_jobs: int, n_rows: int) -> int:
    """Threads worth using for ``n_rows``: on small data, thread start-up and (on a busy
    machine) spinning OpenMP threads cost far more than they save - measured 0.3 s with
    one thread vs 9 s with two for 60 rows on a loaded 2-core machine."""
    return max(1, min(n_jobs, n_rows // _MIN_ROWS_PER_THREAD))


@dataclass(frozen=True)
class MapConfig:
    """How a map is computed. ``n_jobs`` changes speed only, so it is not part of the cache key."""

    method: str = "tsne"
    perplexity: float = 30.0
    n_iter: int = 500                      # openTSNE's main phase
    early_exaggeration_iter: int = 250     # openTSNE's early-exaggeration phase
    pca_components: int = 50               # wider data is reduced to this many PCs before t-SNE
    place_perplexity: float = 5.0          # openTSNE's defaults for transform()
    place_iter: int = 250

    # "auto": openTSNE's own choice, Barnes-Hut below 10,000 rows and FFT interpolation from
    # there. Whole fits, one thread: the 1,797 digits take 9.5 s with BH and 45 s with FFT
    # (FFT's grid grows with the map's spread); BH is faster up to 4,000 digit-like rows (32
    # vs 77 s) and on 7,077 of them (65 vs 105 s); on benchmarks/explore.py's 7,077-row
    # stand-in FFT is faster (52 vs 64 s), on its 2,000 rows slower (29 vs 14 s).
    negative_gradient_method: str = "auto"
    random_state: int = 0
    n_jobs: int = field(default_factory=_default_jobs)

    def __post_init__(self) -> None:
        if self.method not in MAP_METHODS:
            raise InputError(f"map method {self.method!r} is not known; choose one of "
                             f"{', '.join(MAP_METHODS)} (joint t-SNE is joint_tsne())")
        for name in ("perplexity", "place_perplexity"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0; got {getattr(self, name)}; try 30")
        for name in ("n_iter", "place_iter", "pca_components", "n_jobs"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be >= 1; got {getattr(self, name)}")
        if self.early_exaggeration_iter < 0:
            raise InputError(f"early_exaggeration_iter must be >= 0; got "
                             f"{self.early_exaggeration_iter}")

    def cache_params(self) -> dict[str, Any]:
        params = asdict(self)
        params.pop("n_jobs")
        return params


# --------------------------------------------------------------------------- records

@dataclass
class MapData:
    """Points of one map: real rows first, then generated rows.

    ``xy`` float [N, 2]; ``labels`` int64 [N] (-1 = unlabeled); ``source`` [N]
    of "real"/"generated"; ``ids`` N strings; ``class_names`` K names.
    """

    xy: np.ndarray
    labels: np.ndarray
    source: np.ndarray
    ids: list[str]
    class_names: list[str]
    method: str = "tsne"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float64).reshape(-1, 2)
        n = self.xy.shape[0]
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        self.source = np.asarray(self.source, dtype=str).reshape(-1)
        self.ids = [str(i) for i in self.ids]
        self.class_names = [str(c) for c in self.class_names]
        if not (len(self.labels) == len(self.source) == len(self.ids) == n):
            raise InputError(f"map data: xy has {n} rows but labels/source/ids have "
                             f"{len(self.labels)}/{len(self.source)}/{len(self.ids)}")

    @property
    def n_real(self) -> int:
        return int((self.source == REAL).sum())

    @property
    def n_generated(self) -> int:
        return int((self.source == GENERATED).sum())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write as a pickle-free ``.npz`` (atomic)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, xy=self.xy, labels=self.labels, source=self.source,
            ids=np.array(self.ids, dtype=str), class_names=np.array(self.class_names, dtype=str),
            meta=np.array(json.dumps({"method": self.method, **self.meta}, default=str)))
        atomic_write_bytes(path, buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "MapData":
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                return cls(xy=npz["xy"], labels=npz["labels"], source=npz["source"],
                           ids=npz["ids"].tolist(), class_names=npz["class_names"].tolist(),
                           method=meta.pop("method", "tsne"), meta=meta)
        except FileNotFoundError as exc:
            raise StorageError(f"{path}: no such map file; compute the map again") from exc
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: not a map file written by synth_core ({exc}); "
                             "compute the map again") from exc


@dataclass(frozen=True)
class Centroid:
    """A class centre on the map; ``number`` is the label for real rows, label + K for generated."""

    label: int
    source: str
    number: int
    x: float
    y: float


def centroids(data: MapData) -> list[Centroid]:
    """Mean position of each (class, source) group; real numbered 0..K-1, generated K..2K-1."""
    k = len(data.class_names)
    out = []
    for source, offset in ((REAL, 0), (GENERATED, k)):
        for label in range(k):
            mask = (data.source == source) & (data.labels == label)
            if mask.any():
                x, y = data.xy[mask].mean(axis=0)
                out.append(Centroid(label, source, label + offset, float(x), float(y)))
    return out


# --------------------------------------------------------------------------- fitting

class _ReferenceAffinities:
    """Affinities of new rows to the real rows, for openTSNE's ``transform``.

    openTSNE can pickle a fitted ``TSNEEmbedding`` but not save it any other way,
    and we keep cache files pickle-free (a cache file must never run code when
    loaded). ``transform`` needs only the real rows' map positions and a
    nearest-neighbour query against the real rows, so we store those arrays and
    rebuild this small object instead (no index to build: queries are exact
    matrix products). It implements the part of ``openTSNE.affinity.Affinities``
    that ``transform`` uses: ``P`` (only its shape is checked) and ``to_new``.
    """

    def __init__(self, reference: np.ndarray, *, n_jobs: int = 1) -> None:
        import scipy.sparse as sp

        self.reference = np.asarray(reference, dtype=np.float64)         # [N, k]
        self.reference_sq = np.einsum("ij,ij->i", self.reference, self.reference)
        self.n_samples = self.reference.shape[0]
        self.n_jobs = n_jobs
        self.verbose = False
        self.P = sp.csr_matrix((self.n_samples, self.n_samples))

    def to_new(self, data: np.ndarray, perplexity: float = 5.0, return_distances: bool = False,
               k_neighbors: str | int = "auto"):
        from openTSNE.affinity import joint_probabilities_nn

        k = min(self.n_samples, int(3 * perplexity)) if k_neighbors == "auto" else int(k_neighbors)
        k = max(1, k)
        perplexity = min(perplexity, max(k / 3, 1.0))  # openTSNE's rule: k >= 3 x perplexity
        distances, neighbors = knn(self.reference, data, k, reference_sq=self.reference_sq)
        P = joint_probabilities_nn(neighbors, distances, [perplexity], symmetrize=False,
                                   normalization="point-wise", n_reference_samples=self.n_samples,
                                   n_jobs=self.n_jobs)
        return (P, neighbors, distances) if return_distances else P


@dataclass
class RealMap:
    """A fitted map of the real rows; :meth:`place` adds new rows without moving them.

    ``xy`` [N, 2] real positions (centred); ``mean_`` [D] and ``components_``
    [k, D] project raw rows (PCA; k = 0 means the rows are used as they are);
    ``reference_`` [N, k] the projected real rows that t-SNE placement queries.
    """

    config: MapConfig
    xy: np.ndarray
    labels: np.ndarray
    ids: list[str]
    class_names: list[str]
    mean_: np.ndarray
    components_: np.ndarray
    reference_: np.ndarray
    key: str = ""
    from_cache: bool = False
    seconds: float = 0.0
    _embedding: Any = field(default=None, repr=False, compare=False)

    @property
    def method(self) -> str:
        return self.config.method

    @property
    def n_features(self) -> int:
        return int(self.mean_.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.xy.shape[0])

    def project(self, X: np.ndarray) -> np.ndarray:
        """Raw rows [n, D] -> the space the map was fitted in [n, k]."""
        X = np.asarray(X, dtype=np.float64)
        if self.components_.shape[0] == 0:
            return X
        return (X - self.mean_) @ self.components_.T  # [n, D] @ [D, k] -> [n, k]

    def place(self, X: np.ndarray) -> np.ndarray:
        """Positions [n, 2] of new rows [n, D] on this map; the real points do not move."""
        X = _check_rows(X, self.n_features, "generated rows")
        if X.shape[0] == 0:
            return np.zeros((0, 2))
        Z = self.project(X)
        if self.method == "pca":
            return Z
        placed = self._tsne_embedding().transform(
            Z, perplexity=self.config.place_perplexity, n_iter=self.config.place_iter)
        return np.asarray(placed, dtype=np.float64)

    def _tsne_embedding(self):
        if self._embedding is None:
            from openTSNE import TSNEEmbedding

            # One thread: placement is light (800 rows ~0.3-0.7 s) and a second thread made it
            # 7x slower on a busy 2-core machine (5.3 s vs 0.7 s, benchmarks/explore.py).
            affinities = _ReferenceAffinities(self.reference_, n_jobs=1)
            # FFT interpolation: the grid over the real points is computed once and reused,
            # so placing one row costs a few ms per iteration whatever N is.
            self._embedding = TSNEEmbedding(
                self.xy, affinities, negative_gradient_method="fft",
                random_state=self.config.random_state, n_jobs=1)
        return self._embedding

    def map_data(self, synthetic: FeatureSet | None = None, *,
                 callback: Callback | None = None) -> MapData:
        """The real rows plus ``synthetic`` placed on the map, as a :class:`MapData`."""
        xy, labels, ids = [self.xy], [self.labels], list(self.ids)
        source = [np.full(self.n_samples, REAL)]
        if synthetic is not None and synthetic.n_samples:
            _check_labels(synthetic, len(self.class_names))
            emit(callback, Progress(0.95, f"placing {synthetic.n_samples} generated rows",
                                    stage="place"))
            xy.append(self.place(synthetic.features))
            labels.append(synthetic.labels)
            source.append(np.full(synthetic.n_samples, GENERATED))
            ids += _row_ids(synthetic, "generated")
        return MapData(xy=np.concatenate(xy), labels=np.concatenate(labels),
                       source=np.concatenate(source), ids=ids, class_names=self.class_names,
                       method=self.method)

    # -- pickle-free cache: plain arrays and a JSON string in one .npz
    def _save(self, path: Path) -> None:
        buffer = io.BytesIO()
        meta = {"version": _CACHE_VERSION, "config": asdict(self.config),
                "class_names": self.class_names, "key": self.key, "seconds": self.seconds}
        np.savez(buffer, xy=self.xy, labels=self.labels, ids=np.array(self.ids, dtype=str),
                 mean=self.mean_, components=self.components_, reference=self.reference_,
                 meta=np.array(json.dumps(meta)))
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def _load(cls, path: Path, config: MapConfig) -> "RealMap":
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("version") != _CACHE_VERSION:
                raise ValueError(f"cache version {meta.get('version')}")
            return cls(config=config, xy=npz["xy"], labels=npz["labels"],
                       ids=npz["ids"].tolist(), class_names=meta["class_names"],
                       mean_=npz["mean"], components_=npz["components"],
                       reference_=npz["reference"], key=meta["key"], from_cache=True,
                       seconds=float(meta.get("seconds", 0.0)))


def map_cache_key(real: FeatureSet, config: MapConfig) -> str:
    """Content hash of the rows and labels plus the parameters that change the map."""
    params = json.dumps(config.cache_params(), sort_keys=True)
    digest = hashlib.blake2b(digest_size=12)
    digest.update(array_digest(real.features, real.labels).encode())
    digest.update(params.encode())
    return digest.hexdigest()


def _real_map_path(cache_dir: Path, method: str, key: str) -> Path:
    return cache_dir / "maps" / f"real-{method}-{key}.npz"


def check_mappable(n_features: int, what: str = "the real data") -> None:
    """Refuse data of fewer than 2 features per row, which no 2-d map of the rows can show
    (``what`` names the data in the message: "dataset iris-petal")."""
    if n_features < 2:
        raise InputError(f"{what} has {n_features} feature per row; a 2-d map needs "
                         "at least 2 features; compare the real and generated values of one "
                         "feature with the per-feature spread and shape of the scorecard "
                         "(Evaluate page, or the evaluate verb)")


def fit_map(real: FeatureSet, *, method: str = "tsne", cache_dir: Path | None = None,
            random_state: int = 0, callback: Callback | None = None,
            config: MapConfig | None = None) -> RealMap:
    """Fit a 2-d map of the real rows, or load it from ``cache_dir/maps/`` when already fitted.

    ``config`` sets the other parameters (perplexity, iterations...); ``method``
    and ``random_state`` always come from the arguments. Wide data (more than
    ``config.pca_components`` features) is reduced with PCA before t-SNE.
    """
    config = replace(config or MapConfig(), method=method, random_state=random_state)
    _check_rows(real.features, real.n_features, "real rows")
    check_mappable(real.n_features)
    min_rows = 5 if method == "tsne" else 2
    if real.n_samples < min_rows:
        raise InputError(f"the real data has {real.n_samples} rows; a {method} map needs at "
                         f"least {min_rows}; pick a larger dataset")
    key = map_cache_key(real, config)
    path = _real_map_path(Path(cache_dir), method, key) if cache_dir else None
    if path is not None and path.is_file():
        try:
            cached = RealMap._load(path, config)
            cached.ids = _row_ids(real, "real")  # ids do not change the map; take the current ones
            emit(callback, Progress(1.0, f"{method} map loaded from the cache", stage="cache"))
            return cached
        except (OSError, KeyError, ValueError) as exc:
            emit(callback, Log(f"ignoring unreadable map cache {path.name} ({exc}); refitting",
                               level="warning"))
    start = time.perf_counter()
    X = real.features.astype(np.float64)
    if method == "pca":
        mean, components = _fit_pca(X, 2, config.random_state)
        xy = (X - mean) @ components.T  # [N, D] @ [D, 2] -> [N, 2]
        reference = np.zeros((0, 0))     # PCA places new rows by projection alone
    else:
        if X.shape[1] > config.pca_components:
            emit(callback, Progress(0.0, f"PCA: {X.shape[1]} -> {config.pca_components} "
                                         "dimensions", stage="pca"))
            mean, components = _fit_pca(X, config.pca_components, config.random_state)
            reference = (X - mean) @ components.T  # [N, D] @ [D, k] -> [N, k]
        else:
            mean, components, reference = np.zeros(X.shape[1]), np.zeros((0, X.shape[1])), X
        xy = _fit_opentsne(reference, config, callback)
        xy -= (xy.max(axis=0) + xy.min(axis=0)) / 2  # centred, as openTSNE's transform expects
    real_map = RealMap(config=config, xy=xy, labels=real.labels.copy(),
                       ids=_row_ids(real, "real"), class_names=list(real.class_names),
                       mean_=mean, components_=components, reference_=reference,
                       key=key, seconds=time.perf_counter() - start)
    if path is not None:
        real_map._save(path)
    emit(callback, Progress(1.0, f"{method} map of {real.n_samples} rows fitted in "
                                 f"{real_map.seconds:.1f} s", stage="fit"))
    return real_map


def _fit_pca(X: np.ndarray, n_components: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import PCA

    n_components = min(n_components, X.shape[0], X.shape[1])
    pca = PCA(n_components=n_components, random_state=random_state).fit(X)
    return pca.mean_.astype(np.float64), pca.components_.astype(np.float64)  # [D], [k, D]


def _fit_opentsne(X: np.ndarray, config: MapConfig, callback: Callback | None) -> np.ndarray:
    from openTSNE import TSNE

    total = config.early_exaggeration_iter + config.n_iter
    every = max(1, min(50, total // 20))
    done = {"iterations": 0}

    def _report(iteration: int, error: float, embedding: np.ndarray) -> bool:
        # openTSNE restarts the count for its second phase; count calls instead.
        done["iterations"] += every
        emit(callback, Progress(min(0.05 + 0.9 * done["iterations"] / total, 0.95),
                                f"t-SNE iteration {min(done['iterations'], total)}/{total}",
                                stage="tsne"))
        return False

    tsne = TSNE(n_components=2, perplexity=min(config.perplexity, (X.shape[0] - 1) / 3),
                n_iter=config.n_iter, early_exaggeration_iter=config.early_exaggeration_iter,
                negative_gradient_method=config.negative_gradient_method,
                n_jobs=_threads(config.n_jobs, X.shape[0]),
                random_state=config.random_state, callbacks=_report if callback else None,
                callbacks_every_iters=every)
    emit(callback, Progress(0.05, f"t-SNE of {X.shape[0]} rows x {X.shape[1]} dimensions",
                            stage="tsne"))
    return np.array(tsne.fit(X), dtype=np.float64)  # [N, 2]


def joint_tsne(real: FeatureSet, synthetic: FeatureSet | None, *, random_state: int = 0,
               perplexity: float = 30.0, pca_components: int = 50, max_iter: int | None = None,
               n_jobs: int | None = None, callback: Callback | None = None) -> MapData:
    """The thesis's map: one scikit-learn t-SNE of real and generated rows together.

    Rows wider than ``pca_components`` are reduced with PCA (fitted on all rows)
    first. Every generation changes the whole map; use :func:`fit_map` for a
    fixed real map.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    parts = [real] + ([synthetic] if synthetic is not None and synthetic.n_samples else [])
    for part in parts[1:]:
        _check_rows(part.features, real.n_features, "generated rows")
        _check_labels(part, real.n_classes)
    X = np.concatenate([p.features for p in parts]).astype(np.float64)
    n = X.shape[0]
    if n < 5:
        raise InputError(f"joint t-SNE needs at least 5 rows; got {n}; pick a larger dataset")
    start = time.perf_counter()
    if X.shape[1] > pca_components:
        emit(callback, Progress(0.02, f"PCA: {X.shape[1]} -> {pca_components} dimensions",
                                stage="pca"))
        mean, components = _fit_pca(X, pca_components, random_state)
        X = (X - mean) @ components.T  # [n, D] -> [n, k]
    emit(callback, Progress(0.05, f"scikit-learn t-SNE of {n} rows (no progress until it ends)",
                            stage="tsne"))
    kwargs = {"max_iter": max_iter} if max_iter else {}
    n_jobs = _threads(n_jobs or _default_jobs(), n)
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), init="pca",
                learning_rate="auto", random_state=random_state, n_jobs=n_jobs, **kwargs)
    # scikit-learn's Barnes-Hut gradient uses every OpenMP thread whatever n_jobs says; on a
    # busy machine spinning threads make it many times slower, so n_jobs caps them too.
    with threadpool_limits(limits=n_jobs, user_api="openmp"):
        xy = tsne.fit_transform(X)  # [n, 2]
    emit(callback, Progress(1.0, f"joint t-SNE of {n} rows in {time.perf_counter() - start:.1f} s",
                            stage="tsne"))
    source = np.concatenate([np.full(real.n_samples, REAL)]
                            + [np.full(p.n_samples, GENERATED) for p in parts[1:]])
    ids = _row_ids(real, "real") + [i for p in parts[1:] for i in _row_ids(p, "generated")]
    return MapData(xy=xy, labels=np.concatenate([p.labels for p in parts]), source=source,
                   ids=ids, class_names=real.class_names, method="joint-tsne",
                   meta={"seconds": time.perf_counter() - start})


def latent_map(run: Any, real: FeatureSet, synthetic: FeatureSet | None = None, *,
               method: str = "pca", random_state: int = 0,
               callback: Callback | None = None, config: MapConfig | None = None) -> MapData:
    """Map of a trained model's latent space: the means of the real rows, and the generated codes.

    ``run`` is a :class:`synth_core.training.runs.Run` (anything with ``encode(X, labels)
    -> (mu, logvar)`` and ``is_conditional``). Generated rows are encoded too, so
    the stars show where the model puts them.
    """
    conditional = bool(getattr(run, "is_conditional", False))
    expected = int(getattr(run, "n_features", real.n_features))
    if expected != real.n_features:
        raise InputError(f"the model was trained on {expected}-feature rows but the real data has "
                         f"{real.n_features}; pick the dataset the model was trained on "
                         f"({getattr(run, 'dataset_ref', '') or 'see its config.json'})")
    if conditional and not real.is_labeled:
        raise InputError("this model is conditional (CVAE) and needs class labels, but the real "
                         "data has unlabeled rows; pick the labelled dataset it was trained on")
    emit(callback, Progress(0.02, f"encoding {real.n_samples} real rows", stage="encode"))
    mu, _ = run.encode(real.features, real.labels if conditional else None)  # [N, latent]
    pad = max(0, 2 - mu.shape[1])  # a 1-d latent space is drawn on a line: [N, 1] -> [N, 2]
    mu = np.pad(mu, ((0, 0), (0, pad)))
    latent = FeatureSet(features=mu, labels=real.labels, class_names=real.class_names,
                        ids=_row_ids(real, "real"))
    real_map = fit_map(latent, method=method, cache_dir=None, random_state=random_state,
                       callback=callback, config=config)
    codes = None
    if synthetic is not None and synthetic.n_samples:
        _check_rows(synthetic.features, real.n_features, "generated rows")
        _check_labels(synthetic, real.n_classes)
        if conditional and (synthetic.labels < 0).any():
            raise InputError("the generated file has unlabeled rows but the model is "
                             "conditional; generate with class labels (CVAE) first")
        mu_gen, _ = run.encode(synthetic.features, synthetic.labels if conditional else None)
        mu_gen = np.pad(mu_gen, ((0, 0), (0, pad)))
        codes = FeatureSet(features=mu_gen, labels=synthetic.labels,
                           class_names=synthetic.class_names, ids=_row_ids(synthetic, "generated"))
    data = real_map.map_data(codes, callback=callback)
    data.meta.update({"space": "latent", "latent_dim": int(mu.shape[1])})
    return data


# --------------------------------------------------------------------------- helpers on data

def _check_rows(X: np.ndarray, n_features: int, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise InputError(f"{name} must be a 2-D matrix [rows, features]; got shape {X.shape}")
    if X.shape[1] != n_features:
        raise InputError(
            f"{name} have {X.shape[1]} features but the map was fitted on {n_features}-feature "
            "rows; use generated data from a model trained on this dataset (same feature "
            "width), or pick the real dataset the model was trained on")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X)).any(axis=1).sum())
        raise InputError(f"{name}: {bad} row(s) contain NaN or infinite values; remove them "
                         "and try again (in generated data they come from a diverged model)")
    return X


def _check_labels(data: FeatureSet, n_classes: int) -> None:
    if data.n_samples and n_classes and data.labels.max() >= n_classes:
        raise InputError(f"generated rows have class label {int(data.labels.max())} but the real "
                         f"data has {n_classes} classes (0..{n_classes - 1}); use generated data "
                         "from a model trained on this dataset")


def _row_ids(data: FeatureSet, prefix: str) -> list[str]:
    if data.ids is not None:
        return list(data.ids)
    return [f"{prefix}-{i}" for i in range(data.n_samples)]


def estimate_seconds(n_rows: int, method: str) -> float:
    """Rough duration of a map of ``n_rows`` rows on this machine (for a warning, not a promise)."""
    cores = min(os.cpu_count() or 1, 8)
    per_row = _SECONDS_PER_ROW_CORE.get(method, _SECONDS_PER_ROW_CORE["joint-tsne"])
    return n_rows * per_row / (cores if method == "tsne" else min(cores, 2))


