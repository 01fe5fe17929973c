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
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

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
