"""Where codes come from: N(0, I), or the aggregate posterior as a Gaussian mixture.

A VAE is trained to make its codes look like N(0, I), but the codes of the
training rows rarely fill that ball evenly (and an autoencoder without a KL term
has no prior at all). Ghosh et al., "From Variational to Deterministic
Autoencoders" (ICLR 2020), fit a Gaussian mixture to the encoded training rows
(the aggregate posterior) and sample codes from it instead; decoded, those codes
land where the model's real rows are. :class:`CodeMixture` is that, one mixture
per class when the rows have labels, as a scikit-learn style estimator:
``fit(Z, y)`` then ``sample(counts, random_state=...)``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from synth_core.errors import InputError

# Ghosh et al. use 10 components; fewer when a class has few rows, so that every
# component has rows enough to estimate a full covariance of a small latent space.
MAX_COMPONENTS = 10
_ROWS_PER_COMPONENT = 20
_REG = 1e-5  # added to each covariance's diagonal (GaussianMixture's reg_covar)


class CodeMixture:
    """Gaussian mixtures fitted on codes [N, latent], one per class (or one for all rows).

    ``n_components`` caps the components per mixture (each gets at least
    ``20`` rows); ``covariance_type`` is scikit-learn's ("full" by default).
    Fitted state: ``mixtures_`` (class -> GaussianMixture; class -1 for
    unlabelled codes) and ``proportions_`` (class -> share of the rows).
    """

    def __init__(self, n_components: int = MAX_COMPONENTS, *, covariance_type: str = "full",
                 random_state: int = 0) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.random_state = random_state

    def fit(self, Z: np.ndarray, y: np.ndarray | None = None) -> "CodeMixture":
        """Fit one mixture per label of ``y`` (labels < 0 or ``y=None``: one mixture, class -1)."""
        from sklearn.mixture import GaussianMixture

        if isinstance(self.n_components, bool) or int(self.n_components) != self.n_components \
                or self.n_components < 1:
            raise InputError(f"n_components = {self.n_components!r} must be a whole number >= 1")
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[0] == 0:
            raise InputError(f"codes must be a non-empty [rows, latent] matrix; got shape "
                             f"{Z.shape}; encode some training rows first")
        if not np.isfinite(Z).all():
            raise InputError("codes contain NaN or infinite values (a diverged model?); train "
                             "the model again")
        labels = (np.full(len(Z), -1, dtype=np.int64) if y is None
                  else np.asarray(y, dtype=np.int64).reshape(-1))
        if len(labels) != len(Z):
            raise InputError(f"y has {len(labels)} labels but Z has {len(Z)} rows")
        if (labels >= 0).any() and (labels < 0).any():
            labels = np.full(len(Z), -1, dtype=np.int64)  # partly labelled: one mixture for all
        self.mixtures_ = {}
        self.proportions_ = {}
        pooled = None
        for label in np.unique(labels).tolist():
            rows = Z[labels == label]
            if len(rows) < 2:
                # One row has no spread of its own (GaussianMixture refuses it): a Gaussian
                # at its code with the spread the other classes share.
                pooled = _pooled_covariance(Z, labels) if pooled is None else pooled
                self.mixtures_[int(label)] = _one_gaussian(rows[0], pooled)
            else:
                k = max(1, min(int(self.n_components), len(rows) // _ROWS_PER_COMPONENT))
                self.mixtures_[int(label)] = GaussianMixture(
                    n_components=k, covariance_type=self.covariance_type, reg_covar=_REG,
                    random_state=self.random_state).fit(rows)
            self.proportions_[int(label)] = len(rows) / len(Z)
        return self

    @property
    def classes_(self) -> list[int]:
        return sorted(self.mixtures_)

    def sample(self, counts: Mapping[int, int] | int, *, random_state: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
        """``counts[c]`` codes of each class ``c`` (an int: that many from an unlabelled fit, or
        shared out in the fitted class proportions): (codes [n, latent], labels [n])."""
        if not hasattr(self, "mixtures_"):
            raise InputError("the code mixture is not fitted yet; call fit(Z, y) first")
        if not isinstance(counts, Mapping):
            counts = share_out(int(counts), self.proportions_)
        rng = np.random.default_rng(random_state)
        codes, labels = [], []
        for label, n in counts.items():
            if int(label) not in self.mixtures_:
                raise InputError(f"class {label} had no training codes, so there is no mixture "
                                 f"to draw from; pick one of {self.classes_}")
            if n <= 0:
                continue
            gm = self.mixtures_[int(label)]
            # Draw components, then Gaussians, with our own generator (GaussianMixture.sample
            # reseeds from its random_state, which would repeat draws across calls).
            comp = rng.choice(len(gm.weights_), size=int(n), p=gm.weights_)
            Z = np.empty((int(n), gm.means_.shape[1]))
            for j in np.unique(comp):
                take = comp == j
                Z[take] = rng.multivariate_normal(gm.means_[j], _covariance(gm, j),
                                                  size=int(take.sum()), method="cholesky")
            codes.append(Z)
            labels.append(np.full(int(n), int(label), dtype=np.int64))
        if not codes:
            raise InputError("counts asks for 0 codes; give at least one class a positive count")
        return np.concatenate(codes), np.concatenate(labels)


def _pooled_covariance(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Within-class covariance [latent, latent] pooled over the classes of >= 2 rows (all
    codes as one group when no class has 2; the identity, N(0, I)'s, for a single code)."""
    d = Z.shape[1]
    scatter, dof = np.zeros((d, d)), 0
    for label in np.unique(labels):
        rows = Z[labels == label]
        if len(rows) >= 2:
            centred = rows - rows.mean(axis=0)
            scatter += centred.T @ centred
            dof += len(rows) - 1
    if dof == 0 and len(Z) >= 2:
        centred = Z - Z.mean(axis=0)
        scatter, dof = centred.T @ centred, len(Z) - 1
    return scatter / dof + _REG * np.eye(d) if dof else np.eye(d)


def _one_gaussian(mean: np.ndarray, cov: np.ndarray):
    """A fitted one-component ``GaussianMixture`` N(mean, cov), set rather than fitted."""
    from scipy.linalg import solve_triangular
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(n_components=1, covariance_type="full")
    gm.weights_ = np.ones(1)
    gm.means_ = np.asarray(mean, dtype=np.float64)[None]
    gm.covariances_ = cov[None]
    chol = np.linalg.cholesky(cov)
    gm.precisions_cholesky_ = solve_triangular(chol, np.eye(len(cov)), lower=True).T[None]
    gm.precisions_ = gm.precisions_cholesky_ @ gm.precisions_cholesky_.transpose(0, 2, 1)
    gm.converged_, gm.n_iter_, gm.lower_bound_ = True, 0, float("nan")
    return gm


def _covariance(gm, j: int) -> np.ndarray:
    """Component ``j``'s full covariance [latent, latent] whatever ``covariance_type`` was."""
    d = gm.means_.shape[1]
    kind = gm.covariance_type
    if kind == "full":
        return gm.covariances_[j]
    if kind == "tied":
        return gm.covariances_
    if kind == "diag":
        return np.diag(gm.covariances_[j])
    return np.eye(d) * gm.covariances_[j]  # spherical


def share_out(total: int, proportions: Mapping[int, float]) -> dict[int, int]:
    """``total`` split over classes in ``proportions`` (largest remainders; sums to total)."""
    if isinstance(total, bool) or int(total) != total or total < 0:
        raise InputError(f"total = {total!r} must be a whole number >= 0")
    keys = sorted(proportions)
    if not keys:
        raise InputError("no classes to share the rows out over")
    weights = np.asarray([max(float(proportions[k]), 0.0) for k in keys])
    if weights.sum() <= 0:
        raise InputError("every class proportion is 0; there is nothing to follow")
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return {k: int(c) for k, c in zip(keys, counts)}
