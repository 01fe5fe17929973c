"""The path player component (``st.components.v2``, inline HTML/CSS/JS from this folder).

The map is an ordinary ``st.plotly_chart`` (hover, legend and click-to-pick stay
plotly's); this component, mounted right under it, holds the slider and the decoded
sample and draws the moving marker over that chart. See ``path_player.js`` and
``synth_core.generation.player``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).resolve().parent

HTML = """
<div class="synth-player" data-t="">
  <div class="panel">
    <canvas aria-label="decoded sample"></canvas>
    <div class="line-box" hidden>
      <div class="y-axis">
        <span class="y-hi"></span><span>value</span><span class="y-lo"></span>
      </div>
      <svg class="line" viewBox="0 -60 1000 1120" preserveAspectRatio="none">
        <polyline class="end"></polyline><polyline class="end"></polyline>
        <polyline class="now"></polyline>
      </svg>
      <span class="x-n"></span>
    </div>
  </div>
  <div class="controls">
    <div class="t-label"></div>
    <input type="range" min="0" max="20" step="1" value="10" aria-label="t along the path">
    <div class="ticks"></div>
  </div>
</div>
"""

_component = st.components.v2.component(
    "synth_core.path_player", html=HTML,
    css=(_HERE / "path_player.css").read_text(encoding="utf-8"),
    js=(_HERE / "path_player.js").read_text(encoding="utf-8"))


def path_player(data: dict[str, Any], *, key: str) -> None:
    """Mount the player with ``data`` (:func:`synth_core.generation.player.player_data`).
    It sends nothing back: moving it is the browser's business alone."""
    _component(key=key, data=data, height="content")
