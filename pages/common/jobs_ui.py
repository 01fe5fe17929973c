"""Job panels: start background work, show its progress bar, Cancel, and its result.

The panel for a kind of job always shows the newest job of that kind found in
the workspace, so it is there again after a page switch, a browser refresh or
a server restart. While the job runs, a fragment polls ``status.json`` every
second and redraws only itself; when the job ends the whole page reruns once
so that the result section appears. A job waiting in the queue shows its
place in line and a wait estimate, and Cancel works while it waits.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from pages.common import state
from synth_core.errors import DamagedError, SynthError
from synth_core.jobs import JobStatus, cancel_job, get_job, list_jobs, read_log, submit_job

POLL_SECONDS = 1.0
LiveView = Callable[[JobStatus], None]


def start_job(kind: str, params: dict[str, Any], *, title: str = "") -> JobStatus:
    """Submit a job and remember its id for this session (the workspace remembers too).

    A refusal (this session already has the most jobs the queue takes from one
    session, or bad params) is shown as an error and the page stops there.
    """
    try:
        job = submit_job(state.workspace(), kind, params, title=title)
    except SynthError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    st.session_state[f"job:{kind}"] = job.id
    return job


def latest_job(kind: str, *, match: Callable[[JobStatus], bool] | None = None) -> JobStatus | None:
    """This session's newest job of ``kind``, else the newest one in the workspace.

    ``match`` filters both: the job this session started last counts only if it matches.
    """
    ws = state.workspace()
    remembered = st.session_state.get(f"job:{kind}")
    if remembered:
        try:
            job = get_job(ws, remembered)
        except SynthError:  # the job folder was deleted: fall back to the listing
            st.session_state.pop(f"job:{kind}", None)
        else:
            if match is None or match(job):
                return job
    for job in list_jobs(ws, kind, limit=20):
        if match is None or match(job):
            return job
    return None


def job_panel(job: JobStatus, *, key: str, live: LiveView | None = None) -> JobStatus:
    """Draw a job: live progress with Cancel while it runs, then its outcome.

    ``live`` draws extra live content (loss curves...) inside the polling
    fragment. Returns the job's current status.
    """
    try:
        status = get_job(state.workspace(), job.id)
    except DamagedError as exc:  # its status file was cut or edited: say so, keep the page
        st.warning(exc.damaged.message(), icon=":material/broken_image:")
        return JobStatus(id=job.id, kind=job.kind, title=job.title, state="failed",
                         error=exc.damaged.reason)
    if status.is_active:
        _live_panel(job.id, key=key, live=live)
    else:
        _final_panel(status, key=key, live=live)
    return status


def _live_panel(job_id: str, *, key: str, live: LiveView | None) -> None:
    @st.fragment(run_every=POLL_SECONDS)
    def _poll() -> None:
        try:
            status = get_job(state.workspace(), job_id)
        except DamagedError:
            st.rerun(scope="app")  # the full panel says what is wrong
        if not status.is_active:
            st.rerun(scope="app")
        label = status.title or status.kind
        st.progress(min(max(status.progress, 0.0), 1.0),
                    text=f"{label}: {status.message or status.state}")
        if status.state == "queued":
            st.caption(queue_caption(status))
        if st.button("Cancel", key=f"{key}-cancel", icon=":material/cancel:",
                     help="Stop this job; finished parts already saved are kept."):
            cancel_job(state.workspace(), job_id)
            st.toast("Cancel requested")
        if live is not None:
            live(status)

    _poll()


def queue_caption(status: JobStatus) -> str:
    """Place in line and wait estimate of a queued job, as one line."""
    place = "place in the queue unknown yet" if status.position is None else (
        f"place in the queue: {status.position + 1}")
    if status.estimate_s is None:
        wait = "no wait estimate until a job like it has finished"
    elif status.estimate_s < 90:
        wait = f"starts in about {max(1, round(status.estimate_s))} s"
    else:
        wait = f"starts in about {round(status.estimate_s / 60)} min"
    return f"Queued ({place}; {wait}). Jobs run a few at a time so that each gets whole cores."


def _final_panel(status: JobStatus, *, key: str, live: LiveView | None) -> None:
    label = status.title or status.kind
    if status.state == "done":
        st.success(f"{label}: {status.message or 'finished'}", icon=":material/check_circle:")
    elif status.state == "cancelled":
        st.warning(f"{label}: cancelled.", icon=":material/cancel:")
    else:
        st.error(f"{label} failed: {status.error or status.message}", icon=":material/error:")
    if live is not None and status.state != "done":
        live(status)
    if status.state != "done":
        with st.expander("Job log"):
            st.code(read_log(state.workspace(), status.id) or "(empty)", language=None)
