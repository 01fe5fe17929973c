"""A study's plots: Optuna's own plotly figures (optuna.visualization, not redrawn)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go


PLOTS: dict[str, str] = {
    "history": "Optimization history",
    "slice": "Slice",
    "importances": "Parameter importances",
    "intermediate": "Intermediate values",
    "timeline": "Timeline",
}


@dataclass
class StudyPlot:
    """One of Optuna's figures, or why it cannot be drawn yet."""

    key: str
    title: str
    figure: "go.Figure | None"
    note: str = ""


def study_figures(study: "optuna.Study", keys: Iterable[str] = PLOTS) -> list[StudyPlot]:
    """Optuna's own plotly figures for a study (optuna.visualization, not redrawn here).

    A figure that needs more trials (importances need two complete trials with
    varying parameters) comes back with ``figure=None`` and a note saying why.
    """
    import optuna.visualization as vis
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import TrialState

    n_complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    makers = {
        "history": lambda: vis.plot_optimization_history(study),
        "slice": lambda: vis.plot_slice(study),
        # Seeded evaluator: the same study always gives the same bars.
        "importances": lambda: vis.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=0)),
        "intermediate": lambda: vis.plot_intermediate_values(study),
        "timeline": lambda: vis.plot_timeline(study),
    }
    plots = []
    for key in keys:
        title = PLOTS[key]
        if key == "importances" and n_complete < 2:
            plots.append(StudyPlot(key, title, None, "parameter importances need at least two "
                                   "complete trials"))
            continue
        if key != "timeline" and n_complete == 0 and key != "intermediate":
            plots.append(StudyPlot(key, title, None, "no complete trial yet"))
            continue
        try:
            figure = makers[key]()
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            plots.append(StudyPlot(key, title, None, f"cannot draw yet: {exc}"))
            continue
        figure.update_layout(title=f"{title} - {study.study_name}")
        plots.append(StudyPlot(key, title, figure))
    return plots


def write_plots(study: "optuna.Study", out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the study's figures as HTML files (plotly.js once, next to them, for offline use)."""
    from synth_core.workspace import atomic_write_bytes, safe_name

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for plot in study_figures(study):
        if plot.figure is None:
            continue
        path = out / f"{safe_name(study.study_name)}-{plot.key}.html"
        html = plot.figure.to_html(include_plotlyjs="directory", full_html=True)
        atomic_write_bytes(path, html.encode("utf-8"))
        paths.append(path)
    if paths and not (out / "plotly.min.js").is_file():
        from plotly.offline import get_plotlyjs

        atomic_write_bytes(out / "plotly.min.js", get_plotlyjs().encode("utf-8"))
    return paths
