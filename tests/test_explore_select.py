"""A click on the map (a plotly selection) maps back to the right real or generated row."""

from __future__ import annotations

import json

import numpy as np

from synth_core.generation import figures, maps


def _map_data() -> maps.MapData:
    """Real rows first, then generated; the ids repeat across sources (as files often do)."""
    xy = np.array([[0, 0], [2, 0], [10, 10], [12, 10], [1, 1], [11, 11], [3, 3]], dtype=float)
    return maps.MapData(xy=xy, labels=[0, 1, 1, 0, 0, 1, 1],
                        source=["real"] * 4 + ["generated"] * 3,
                        ids=["a", "b", "c", "d", "a", "b", "x"], class_names=["dog", "siren"])


def _click(fig, curve: int, index: int) -> dict:
    """The point dict Streamlit returns for a click, with customdata as the browser sends it
    (the figure's JSON, so the row number arrives as a JSON number)."""
    trace = json.loads(fig.to_json())["data"][curve]
    return {"curve_number": curve, "point_index": index, "point_number": index,
            "customdata": trace["customdata"][index]}


def test_selected_rows_maps_every_point_of_every_trace_to_its_row():
    data = _map_data()
    fig = figures.map_figure(data)
    seen = []
    for curve, trace in enumerate(fig.data):
        for index in range(len(trace.x)):
            rows = figures.selected_rows(data, [_click(fig, curve, index)])
            assert len(rows) == 1
            row = rows[0]
            # The row is the point that was drawn there, of the trace's source and class.
            assert tuple(data.xy[row]) == (trace.x[index], trace.y[index])
            assert data.source[row] == trace.meta["source"]
            assert data.labels[row] == trace.meta["label"]
            seen.append(row)
    assert sorted(seen) == list(range(len(data.ids)))


def test_selected_rows_tells_repeated_ids_apart_by_source():
    data = _map_data()
    fig = figures.map_figure(data)
    traces = {(t.meta["source"], t.meta["label"]): i for i, t in enumerate(fig.data)}
    real_a = _click(fig, traces[("real", 0)], 0)         # real "a" (row 0)
    generated_a = _click(fig, traces[("generated", 0)], 0)  # generated "a" (row 4)
    assert real_a["customdata"][0] == generated_a["customdata"][0] == "a"
    assert figures.selected_rows(data, [real_a, generated_a]) == [0, 4]
    assert figures.source_row(data, 0) == ("real", 0)
    assert figures.source_row(data, 4) == ("generated", 0)
    assert figures.source_row(data, 6) == ("generated", 2)
    assert figures.source_row(data, 3) == ("real", 3)


def test_selected_rows_ignores_other_traces_and_stale_selections():
    data = _map_data()
    marker = {"curve_number": 9, "point_index": 0, "x": 1.0, "y": 2.0}  # no customdata
    assert figures.selected_rows(data, [marker, {}, None]) == []
    assert figures.selected_rows(data, []) == [] and figures.selected_rows(data, None) == []
    # A selection from another map: the row exists but holds another id or source.
    assert figures.point_row(data, ["zzz", "dog", "real", 0]) is None
    assert figures.point_row(data, ["a", "dog", "generated", 0]) is None
    assert figures.point_row(data, ["a", "dog", "real", 99]) is None
    assert figures.point_row(data, ["a", "dog", "real"]) is None  # an old 3-column figure
    assert figures.point_row(data, ["a", "dog", "real", "not a row"]) is None
    assert figures.point_row(data, ["x", "", "generated", 6.0]) == 6
