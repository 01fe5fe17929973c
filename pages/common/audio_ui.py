"""Streamlit widgets that let a user hear spectrogram rows (decoded points, paths, classes).

Each decoded row of a ``spectrogram`` dataset is drawn as its spectrogram
(low frequencies at the bottom) with an ``st.audio`` player under it; the sound
comes from :func:`synth_core.generation.audio.invert` (seeded Griffin-Lim) and
is cached per row. Rows of datasets that cannot be inverted (embeddings) get
no player: :func:`why_silent` says why, once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from synth_core.data.spectrogram import SpectrogramSettings
from synth_core.errors import InputError
from synth_core.features import FeatureSet
from synth_core.generation.audio import invert, settings_for, wav_bytes

_IMAGE_PX = 200  # spectrograms are drawn about this wide


def settings_of(data: FeatureSet) -> SpectrogramSettings | None:
    """The dataset's spectrogram settings, or None when its rows cannot be played."""
    try:
        return settings_for(data)
    except InputError:
        return None


def why_silent(data: FeatureSet) -> str | None:
    """For audio datasets that cannot be heard: the reason (None when they can, or not audio)."""
    if data.attrs.get("modality") != "audio":
        return None
    try:
        settings_for(data)
    except InputError as exc:
        return str(exc)
    return None


@st.cache_data(max_entries=512, show_spinner=False)
def _wav(row: np.ndarray, settings: dict, seed: int) -> bytes:
    s = SpectrogramSettings(**settings)
    return wav_bytes(invert(row, s, random_state=seed)[0], s.sample_rate)


def wav_of(x: np.ndarray, settings: SpectrogramSettings, *, seed: int = 0) -> bytes:
    """A row's sound as WAV bytes (cached: moving the slider back replays at once)."""
    return _wav(np.asarray(x, dtype=np.float32), settings.to_attrs(), seed)


def spectrogram_image(x: np.ndarray, settings: SpectrogramSettings, data: FeatureSet) -> np.ndarray:
    """[mels, frames] in the dataset's value range -> [0, 1] image, low bands at the bottom."""
    lo, hi = np.percentile(data.features, [1, 99.5])
    img = np.asarray(x, dtype=np.float64).reshape(settings.n_mels, settings.n_frames)[::-1]
    img = np.clip((img - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    scale = max(_IMAGE_PX // max(img.shape), 1)
    return np.kron(img, np.ones((scale, scale)))


def play(x: np.ndarray, data: FeatureSet, *, caption: str) -> bool:
    """A decoded row's spectrogram and an audio player; False when the data cannot be heard."""
    settings = settings_of(data)
    if settings is None:
        return False
    st.image(spectrogram_image(x, settings, data), caption=caption, clamp=True)
    st.audio(wav_of(x, settings), format="audio/wav")
    return True


def play_strip(X: np.ndarray, captions: list[str], data: FeatureSet, *, per_row: int = 4
               ) -> bool:
    """Several rows side by side, each with its player (the path strip, class samples)."""
    settings = settings_of(data)
    if settings is None:
        return False
    for start in range(0, len(X), per_row):
        cols = st.columns(per_row)
        for col, x, caption in zip(cols, X[start:start + per_row],
                                   captions[start:start + per_row]):
            with col:
                st.image(spectrogram_image(x, settings, data), caption=caption, clamp=True)
                st.audio(wav_of(x, settings), format="audio/wav")
    return True


def class_samples(rows: FeatureSet, data: FeatureSet, *, limit: int = 12) -> None:
    """The first generated row of each class, playable (nothing for data that cannot be heard)."""
    if settings_of(data) is None or rows.n_samples == 0:
        return
    firsts = [int(np.flatnonzero(rows.labels == c)[0]) for c in np.unique(rows.labels)][:limit]
    names = [rows.class_names[rows.labels[r]] if 0 <= rows.labels[r] < len(rows.class_names)
             else "unlabeled" for r in firsts]
    st.markdown("**Listen: one generated sample per class**")
    play_strip(rows.features[firsts], [f"{n} (row {r})" for n, r in zip(names, firsts)], data)


def play_clip(path: str, *, caption: str = "") -> bool:
    """A real clip from disk (the id of an audio row); False when the file is not there."""
    if not path or not Path(path).is_file():
        return False
    if caption:
        st.caption(caption)
    st.audio(path)
    return True
