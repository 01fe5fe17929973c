"""Covariances as factors: ``cov = F F^T`` with ``F`` [D, r], r <= min(rows - 1, D).

A table of 7,000 features and 70 rows has a 7,000 x 7,000 covariance of rank 69;
decomposing it costs minutes, while its centred rows are already a factor. The
baseline generators sample through the factor and the Frechet distance works on
it (core, numpy only).
"""

from __future__ import annotations

import numpy as np


def centred_factor(Z: np.ndarray) -> np.ndarray:
    """A factor ``F`` [D, r] with ``F F^T`` = the sample covariance of ``Z`` [n, D].

    With fewer rows than features the centred rows themselves are the factor
    (rank <= n - 1); otherwise the eigen-decomposition of the D x D covariance,
    which stays valid when the covariance is singular (constant or collinear
    features), where a Cholesky factorisation would fail.
    """
    n, d = Z.shape
    centred = Z - Z.mean(axis=0)  # [n, D]
    if n <= d:
        return centred.T / np.sqrt(n - 1)  # [D, n]
    cov = centred.T @ centred / (n - 1)  # [D, D]
    w, V = np.linalg.eigh(cov)
    return V * np.sqrt(np.clip(w, 0.0, None))  # [D, D]


def trace_sqrt_product(factor_a: np.ndarray, factor_b: np.ndarray) -> float:
    """``Tr((A B)^1/2)`` for ``A = Fa Fa^T`` and ``B = Fb Fb^T``, from the factors alone.

    The non-zero eigenvalues of ``A B`` are those of ``M^T M`` with ``M = Fb^T Fa``
    [rb, ra], so the trace of the square root is the sum of ``M``'s singular values:
    exact for singular covariances, and an [rb, ra] problem instead of a [D, D] one.
    """
    return float(np.linalg.svd(factor_b.T @ factor_a, compute_uv=False).sum())
