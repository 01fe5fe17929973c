"""Project errors.

Every error a user can cause raises a subclass of :class:`SynthError` whose
message names the input, what is wrong, the offending value and the fix. The
CLI prints it as one line and exits 2; pages show it with ``st.error``.
Anything else is a bug and propagates.
"""

from __future__ import annotations


class SynthError(Exception):
    """Base class for errors caused by user input or the environment."""


class InputError(SynthError, ValueError):
    """Bad input: a file, a parameter or a dataset that cannot be used."""


class StorageError(SynthError, OSError):
    """A file could not be read or written (missing, exists, disk full...)."""


class WeightsMissingError(SynthError, FileNotFoundError):
    """Pretrained weights (VGGish) are not available on this machine."""


class JobCancelled(SynthError):
    """Raised inside a job when the user pressed Cancel."""


class DamagedError(StorageError):
    """A workspace item (run folder, dataset file, job record, study) cannot be read.

    ``damaged`` is the :class:`synth_core.workspace.Damaged` record: the message is
    its one line, and pages use it to offer a Remove button.
    """

    def __init__(self, damaged) -> None:
        super().__init__(damaged.message())
        self.damaged = damaged
