"""Job functions used by the job-runner tests (run in a real worker process)."""

from __future__ import annotations

import time

from synth_core.errors import InputError
from synth_core.events import EpochEnd, Log, Progress


def count(params: dict, ctx) -> dict:
    """Count to params['n'], reporting progress; sleeps params['delay'] between steps.

    With params['gate'] (a file path) the job waits until that file exists, before its
    first step or, with params['gate_after'] = k, after reporting step k.
    """
    import os

    n = int(params["n"])
    gate, gate_after = params.get("gate"), int(params.get("gate_after", 0))

    def wait_for_gate() -> None:  # hold the job open until the test creates the file
        deadline = time.monotonic() + 120
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.02)

    for i in range(n):
        if gate and i == gate_after:
            wait_for_gate()
        time.sleep(float(params.get("delay", 0.0)))
        ctx(Progress((i + 1) / n, f"step {i + 1} of {n}"))
        ctx(EpochEnd(epoch=i + 1, n_epochs=n, train_loss=1.0 / (i + 1), val_loss=1.0 / (i + 1)))
    ctx(Log("counted", level="info"))
    return {"counted": n, "message": f"counted to {n}"}


def refuse(params: dict, ctx) -> dict:
    raise InputError("params: 'x' must be positive; got -1; pass a positive x")


def crash(params: dict, ctx) -> dict:
    raise RuntimeError("boom")


def threads(params: dict, ctx) -> dict:
    """Report the thread settings the queue gave this worker."""
    import os

    return {name: os.environ.get(name) for name in
            ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def cancel_with_late_sigterm(params: dict, ctx) -> dict:
    """Cancel as the race has it: the worker sees the flag file first, then Cancel's SIGTERM
    arrives while it writes its final status (sent from the clean-up's clock reading)."""
    import os
    import signal

    import synth_core.jobs as jobs

    clock = jobs._now

    def late_sigterm() -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        return clock()

    jobs._now = late_sigterm  # only this worker process; read again in run_worker's clean-up
    (ctx.job_dir / "cancel").write_text("now")
    ctx.check_cancelled()
    return {"message": "not cancelled"}
