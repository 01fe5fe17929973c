"""``jobs``: list the background jobs with state, owner and queue position.

Covers the server's workspace and, in classroom mode, every owner's folder
(``users/<code>/jobs``), so a teacher sees the whole room from a terminal.
Damaged job records are listed apart with the way to remove them.
"""

from __future__ import annotations

import argparse

HELP = "list background jobs: state, owner, queue position (every classroom owner too)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--active", action="store_true",
                        help="only queued and running jobs")
    parser.add_argument("--limit", type=int, default=50,
                        help="newest this many jobs (default 50)")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.errors import InputError
    from synth_core.job_queue import max_workers
    from synth_core.jobs import queue_positions, scan_jobs

    if args.limit < 1:
        raise InputError(f"--limit must be a positive whole number; got {args.limit}; e.g. 50")
    base = type(workspace)(workspace.base)
    positions, note = queue_positions(base)
    rows, damaged = [], []
    for owned in [base] + [base.for_owner(code) for code in base.owners()]:
        jobs, broken = scan_jobs(owned)
        damaged += [d.message() for d in broken]
        for job in jobs:
            if args.active and not job.is_active:
                continue
            rows.append({"id": job.id, "kind": job.kind, "state": job.state,
                         "owner": job.owner or owned.owner, "position": positions.get(job.id),
                         "progress": round(job.progress, 3), "created": job.created,
                         "message": job.error or job.message})
    rows.sort(key=lambda r: r["created"] or "", reverse=True)
    rows = rows[:args.limit]
    if callback is not None and not args.json:
        _print_table(rows)
    summary = {"jobs": rows, "workers": max_workers(),
               "running": sum(r["state"] == "running" for r in rows),
               "queued": len(positions), "damaged": damaged}
    if note:
        summary["note"] = note
    return summary


def _print_table(rows: list[dict]) -> None:
    import sys

    print(f"{'id':32} {'state':9} {'owner':12} {'queue':5} message", file=sys.stderr)
    for r in rows:
        place = "" if r["position"] is None else str(r["position"] + 1)
        print(f"{r['id']:32} {r['state']:9} {(r['owner'] or '-'):12} {place:5} "
              f"{r['message'][:60]}", file=sys.stderr)
