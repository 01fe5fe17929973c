"""The convolutional body for image-like rows (``feature_shape`` [H, W] or [C, H, W]).

Done as the autoencoder study's CNN-3L / CNN-5L: the encoder halves the
resolution with strided 3x3 convolutions (32, 64, then 128 maps) while the
grid keeps at least 5 rows and columns (28x28 -> 14 -> 7; 64x101 -> 32x51 ->
16x26 -> 8x13) before the fully connected layers, and the decoder doubles it
back with 4x4 transposed convolutions, then one 3x3 convolution to the output
channels. The previous body kept the full 28x28 into a dense layer (12 M
parameters, 209 s per MNIST epoch on one thread); this one hands 64 maps of 7x7
to the dense layers (3.3 M parameters for latent 64 / hidden 512). Held-out
PSNR and minutes: ``benchmarks/images.py``.

Any [H, W] works (8x8 digits, 28x28 MNIST, 64 x 101 spectrograms): a 3x3
stride-2 convolution with padding 1 gives ceil(n/2), a 4x4 stride-2 transposed
convolution with padding 1 gives 2n, so the decoder's output is at least the
input size and is cropped to it. Small images get one stage (8x8 -> 4x4).
Rows stay flat [N, D] outside the model, so the trainer and the run folder need
not know.

:class:`SpatialHead` and :class:`SpatialDecoderBody` (below) make the ``fcn``
body: the same encoder convolutions, but the code is the coarse grid itself.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from synth_core.models.geometry import (  # noqa: F401  (re-exported)
    STAGE_CHANNELS, coarse_size, image_shape, n_stages)


class ConvEncoderBody(nn.Module):
    """[N, D] -> [N, maps * h * w]: strided convolutions down to a coarse grid."""

    def __init__(self, feature_shape: Sequence[int] | None, activation: type[nn.Module]) -> None:
        super().__init__()
        self.shape = image_shape(feature_shape)
        channels, height, width = self.shape
        stages = STAGE_CHANNELS[:n_stages(height, width)]
        layers: list[nn.Module] = []
        for n_in, n_out in zip((channels, *stages[:-1]), stages):
            layers += [nn.Conv2d(n_in, n_out, 3, stride=2, padding=1), activation()]
        self.net = nn.Sequential(*layers)
        h, w = coarse_size(height, width)
        self.out_dim = stages[-1] * h * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = x.reshape(-1, *self.shape)   # [N, C, H, W]
        return self.net(images).flatten(1)    # [N, maps * h * w]


class ConvDecoderBody(nn.Module):
    """[N, n_in] -> [N, D] logits: a linear map to the coarse grid, transposed convolutions up."""

    def __init__(self, feature_shape: Sequence[int] | None, n_in: int,
                 activation: type[nn.Module]) -> None:
        super().__init__()
        self.shape = image_shape(feature_shape)
        channels, height, width = self.shape
        stages = STAGE_CHANNELS[:n_stages(height, width)]
        self.coarse = (stages[-1], *coarse_size(height, width))  # (maps, h, w)
        self.project = nn.Sequential(nn.Linear(n_in, math.prod(self.coarse)), activation())
        # 64 -> 32 -> 16 maps for two stages: the full-resolution maps are the costly ones.
        ups = (*reversed(stages[:-1]), max(8, stages[0] // 2))
        layers: list[nn.Module] = []
        for n_in_maps, n_out in zip(reversed(stages), ups):
            layers += [nn.ConvTranspose2d(n_in_maps, n_out, 4, stride=2, padding=1), activation()]
        layers.append(nn.Conv2d(ups[-1], channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        maps = self.project(h).reshape(-1, *self.coarse)  # [N, maps, h, w]
        out = self.net(maps)                              # [N, C, >= H, >= W]
        _, height, width = self.shape
        return out[:, :, :height, :width].flatten(1)      # [N, C*H*W]


# ----------------------------------------------------------------------------- spatial code
# The "fcn" body (fully convolutional, as the study's CNN-3L): no dense layer at
# all. The code *is* the coarse grid, ``code_maps`` maps of h x w (latent_dim =
# code_maps * h * w), set by a 1x1 convolution; classes enter as constant maps.
# On MNIST (latent 784 = 16 maps of 7x7) a deterministic AE reaches ~31 dB in 4
# epochs at ~14 s an epoch on 2 cores, where the dense bottleneck of the "conv"
# body (latent 784) is at 27 dB after 4 epochs of ~40 s (benchmarks/images.py).

class SpatialHead(nn.Module):
    """[N, maps*h*w (+ K one-hot)] -> [N, n_out_maps*h*w]: a 1x1 convolution over the grid.

    The one-hot classes of a conditional model become K constant maps.
    """

    def __init__(self, feature_shape: Sequence[int] | None, n_cond: int, n_out_maps: int) -> None:
        super().__init__()
        _, height, width = image_shape(feature_shape)
        grid = (STAGE_CHANNELS[:n_stages(height, width)][-1], *coarse_size(height, width))
        self.grid, self.n_cond = grid, n_cond
        self.conv = nn.Conv2d(grid[0] + n_cond, n_out_maps, 1)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        return self.conv(_grid_with_classes(flat, self.grid, self.n_cond)).flatten(1)


class SpatialDecoderBody(nn.Module):
    """[N, code_maps*h*w (+ K one-hot)] -> [N, D] logits: 3x3 transposed convolutions up.

    Each stride-2 stage doubles the grid exactly (padding 1, output padding 1), the
    channels mirror the encoder's (code -> 64 -> 32 -> C for three stages) and the
    last stage has no activation; the output is cropped to [H, W].
    """

    def __init__(self, feature_shape: Sequence[int] | None, code_maps: int, n_cond: int,
                 activation: type[nn.Module]) -> None:
        super().__init__()
        self.shape = image_shape(feature_shape)
        channels, height, width = self.shape
        stages = STAGE_CHANNELS[:n_stages(height, width)]
        self.grid = (code_maps, *coarse_size(height, width))
        self.n_cond = n_cond
        outs = (*reversed(stages[:-1]), channels)
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip((code_maps + n_cond, *outs[:-1]), outs)):
            layers.append(nn.ConvTranspose2d(n_in, n_out, 3, stride=2, padding=1,
                                             output_padding=1))
            if i < len(outs) - 1:
                layers.append(activation())
        self.net = nn.Sequential(*layers)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        out = self.net(_grid_with_classes(flat, self.grid, self.n_cond))  # [N, C, >= H, >= W]
        _, height, width = self.shape
        return out[:, :, :height, :width].flatten(1)                       # [N, C*H*W]


def _grid_with_classes(flat: torch.Tensor, grid: tuple[int, int, int], n_cond: int
                       ) -> torch.Tensor:
    """[N, maps*h*w + K] -> [N, maps + K, h, w]: the grid, and each class as a constant map."""
    maps, h, w = grid
    n = maps * h * w
    images = flat[:, :n].reshape(-1, maps, h, w)
    if not n_cond:
        return images
    classes = flat[:, n:n + n_cond, None, None].expand(-1, -1, h, w)
    return torch.cat([images, classes.to(images.dtype)], dim=1)
