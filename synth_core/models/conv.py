"""A small convolutional body for image datasets (``feature_shape`` attr, e.g. [8, 8]).

With ``body="conv"`` an autoencoder reshapes each row to an image, runs two
3x3 convolutions (padding keeps the size, so any H x W works) and flattens the
maps into its fully connected layers; the decoder mirrors it. Rows stay flat
[N, D] outside the model, so the trainer and the run folder need not know.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

CHANNELS = 16


def image_shape(feature_shape: Sequence[int] | None) -> tuple[int, int, int]:
    """[H, W] -> (1, H, W); [C, H, W] stays."""
    shape = tuple(int(s) for s in (feature_shape or ()))
    return (1, *shape) if len(shape) == 2 else shape  # type: ignore[return-value]


class ConvEncoderBody(nn.Module):
    """[N, D] -> [N, 16*H*W]: two 3x3 convolutions over the image."""

    def __init__(self, feature_shape: Sequence[int] | None, activation: type[nn.Module]) -> None:
        super().__init__()
        self.shape = image_shape(feature_shape)
        self.net = nn.Sequential(
            nn.Conv2d(self.shape[0], CHANNELS, 3, padding=1), activation(),
            nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1), activation())
        self.out_dim = CHANNELS * self.shape[1] * self.shape[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = x.reshape(-1, *self.shape)   # [N, C, H, W]
        return self.net(images).flatten(1)    # [N, 16*H*W]


class ConvDecoderBody(nn.Module):
    """[N, n_in] -> [N, D] logits: a linear map to 16 feature maps, then two convolutions."""

    def __init__(self, feature_shape: Sequence[int] | None, n_in: int,
                 activation: type[nn.Module]) -> None:
        super().__init__()
        self.shape = image_shape(feature_shape)
        _, height, width = self.shape
        self.project = nn.Sequential(nn.Linear(n_in, CHANNELS * height * width), activation())
        self.net = nn.Sequential(
            nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1), activation(),
            nn.Conv2d(CHANNELS, self.shape[0], 3, padding=1))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        maps = self.project(h).reshape(-1, CHANNELS, *self.shape[1:])  # [N, 16, H, W]
        return self.net(maps).flatten(1)                                # [N, C*H*W]
