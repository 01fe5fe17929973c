"""Which torch device a step runs on: one rule for training, loading runs and VGGish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from synth_core.errors import InputError

if TYPE_CHECKING:
    import torch


def resolve_device(name: str, *, check_available: bool = True) -> "torch.device":
    """"auto" -> CUDA when present, else CPU; "cpu", "cuda", "cuda:1" as given."""
    import torch

    text = str(name).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise InputError(f"device: unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device: unsupported device {name!r}; use auto, cpu or cuda")
    if check_available and device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device: {name!r} asked for a GPU but PyTorch sees none here; "
                         "use --device auto or cpu")
    return device
