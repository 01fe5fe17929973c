"""Typed progress events that long-running work reports.

Core functions that take a while accept ``callback: Callable[[Event], None]``.
The CLI prints the events, the job runner writes them to the job folder (which
the page polls), and Optuna prunes on :class:`EpochEnd`. A callback may raise
(``JobCancelled``, ``optuna.TrialPruned``) to stop the work; the core lets such
exceptions propagate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Union


@dataclass(frozen=True)
class Progress:
    """Generic progress: ``fraction`` in [0, 1] of the whole task."""

    fraction: float
    message: str = ""
    stage: str = ""


@dataclass(frozen=True)
class EpochEnd:
    """One finished training epoch; losses are per-row averages."""

    epoch: int  # 1-based
    n_epochs: int
    train_loss: float
    val_loss: float
    train_recon: float = float("nan")
    train_kl: float = float("nan")
    val_recon: float = float("nan")
    val_kl: float = float("nan")
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Log:
    """A line for the job log (warnings, skipped files...)."""

    message: str
    level: str = "info"


Event = Union[Progress, EpochEnd, Log]
Callback = Callable[[Event], None]


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-able form with the event's type name under ``"type"``."""
    return {"type": type(event).__name__, **asdict(event)}


def emit(callback: Callback | None, event: Event) -> None:
    """Send ``event`` to ``callback`` if there is one."""
    if callback is not None:
        callback(event)
