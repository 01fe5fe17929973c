"""The convolutional bodies' grid arithmetic, without importing torch.

Configs and derived defaults need the coarse grid's size (a spatial code's
length is a multiple of it); only building a model needs torch
(:mod:`synth_core.models.conv`).
"""

from __future__ import annotations

from math import prod
from typing import Sequence

from synth_core.errors import InputError

STAGE_CHANNELS = (32, 64, 128)  # feature maps after each stride-2 stage


def image_shape(feature_shape: Sequence[int] | None) -> tuple[int, int, int]:
    """[H, W] -> (1, H, W); [C, H, W] stays."""
    shape = tuple(int(s) for s in (feature_shape or ()))
    return (1, *shape) if len(shape) == 2 else shape  # type: ignore[return-value]


def n_stages(height: int, width: int) -> int:
    """Stride-2 stages: halve while the coarse grid keeps >= 5 rows and columns (28x28 -> 7x7,
    8x8 -> 4x4, 64x101 -> 8x13), at least one and at most ``len(STAGE_CHANNELS)``."""
    stages, smallest = 0, min(height, width)
    while stages < len(STAGE_CHANNELS) and (smallest + 1) // 2 >= 5:
        stages, smallest = stages + 1, (smallest + 1) // 2
    return max(1, stages)


def coarse_size(height: int, width: int) -> tuple[int, int]:
    """The encoder's output resolution: each stage gives ceil(n / 2)."""
    for _ in range(n_stages(height, width)):
        height, width = (height + 1) // 2, (width + 1) // 2
    return height, width


def grid_cells(feature_shape: Sequence[int] | None) -> int:
    """Cells of the coarse grid (h * w): a spatial code ("fcn" body) has a multiple of them."""
    _, height, width = image_shape(feature_shape)
    h, w = coarse_size(height, width)
    return h * w


def check_image_shape(body: str, feature_shape: Sequence[int] | None, n_features: int) -> None:
    """Refuse a conv body for rows without an [H, W] / [C, H, W] shape that fits them."""
    shape = tuple(feature_shape or ())
    if not shape or len(shape) not in (2, 3) or prod(shape) != n_features:
        raise InputError(
            f"body {body!r} needs an image dataset whose feature_shape ([H, W] or "
            f"[C, H, W]) multiplies to the feature count {n_features}; got "
            f"feature_shape {list(shape) if shape else None}; use body 'mlp' for this data")
