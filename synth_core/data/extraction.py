"""Audio feature extraction: clips on disk -> a FeatureSet of [frames x 128] rows.

(VGGish's front end, network and weights live in :mod:`synth_core.data.vggish`;
whole spectrograms that can be inverted to sound in :mod:`.spectrogram`.)

Both extractors start from VGGish's own input pipeline: 16 kHz mono audio, a
log-mel spectrogram (25 ms windows, 10 ms hop, 64 mel bands, 125-7500 Hz,
``torchvggish.mel_features``) cut into 0.96 s examples of [96 frames, 64 bands].
A clip gives ``frames`` such examples (the first ones; 4 s -> 4), and each
example becomes 128 numbers, so a row is ``frames * 128`` long (4 -> 512, the
thesis's layout):

* ``vggish`` – the VGGish network (``torchvggish``) maps an example to its
  128-d embedding, optionally with the AudioSet PCA-whitening and 8-bit
  quantisation (``postprocess``). Weights come from the torch hub cache or
  ``$SYNTH_VGGISH_WEIGHTS``; ``pretrained=False`` builds an untrained network for
  tests and timing only (and says so in the file's attrs).
* ``logmel`` – weight-free: per example, the mean and the standard deviation
  over its 96 frames of each of the 64 log-mel bands (128 numbers).

Two extractors analyse whole clips instead (``clip_input``): ``spectrogram``
(:mod:`.spectrogram`, invertible to sound) and ``summary`` (:mod:`.summary`:
37 hand-crafted numbers per clip, MFCCs, chroma and spectral shape).

:data:`EXTRACTORS` is the registry; :func:`extract_clips` runs the pipeline with
progress events and lists skipped files; :func:`extract_job` is the job kind
``extract``. A min-max scaler (fitted on all rows, or on the rows outside the
test folds) is stored with the features.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from synth_core.data.audio import (FRAME_SECONDS, ClipConfig, ClipRejected, fit_length,
                                  prepare_waveform, read_audio_head)
from synth_core.errors import InputError
from synth_core.events import Callback, Log, Progress, emit
from synth_core.features import FeatureSet
from synth_core.data.layouts import ClipList, ClipRef, Skipped, discover_clips
from synth_core.data.scaling import MinMaxScaling
from synth_core.data.vggish import (EMBEDDING_SIZE, VGGishExtractor, log_mel_examples,
                                    samples_for_frames)
from synth_core.workspace import Workspace

logger = logging.getLogger(__name__)

_MAX_SKIPPED_ATTR = 20  # skipped files named in the file's attrs (all are in the job log)


AUTO = "auto"
MAX_FRAMES = 64
# Named settings one flag away (``--preset``): the thesis kept only the UrbanSound8K
# clips of exactly 4.0 s (7077 of 8732) and 4 frames of VGGish (512 numbers).
EXTRACT_PRESETS: dict[str, dict[str, Any]] = {
    "us8k-thesis": {"duration": 4.0, "tolerance": 0.01, "pad": False, "frames": 4},
}


@dataclass(frozen=True)
class ExtractConfig:
    """Everything that decides the features; stored in the file's attrs.

    ``duration="auto"`` / ``frames="auto"`` are derived from the clips by
    :func:`clip_policy` (the layout's own clip length, else the median length,
    clips padded/trimmed to it); a number keeps the given rule.
    """

    extractor: str = "logmel"
    frames: int | str = AUTO
    sample_rate: int = 16000
    duration: float | str | None = AUTO
    tolerance: float = 0.01
    pad: bool = False
    labels: str = "auto"           # "auto", "folder" or a CSV path (see layouts.discover_clips)
    postprocess: bool = False      # vggish: AudioSet PCA + 8-bit quantisation
    pretrained: bool = True        # vggish: False = untrained network (tests/timing only)
    device: str = "auto"           # vggish: "auto" -> cuda when available
    batch_size: int = 64           # examples per network pass
    test_folds: tuple[int, ...] = ()  # rows in these folds are left out of the scaler fit

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise InputError(f"extractor {self.extractor!r} is unknown; choose one of "
                             f"{', '.join(EXTRACTORS)}")
        if self.frames != AUTO and not (isinstance(self.frames, (int, np.integer))
                                        and 1 <= int(self.frames) <= MAX_FRAMES):
            raise InputError(f"frames {self.frames!r} is out of range; use 1 to {MAX_FRAMES} "
                             "examples of 0.96 s per clip (4 for 4-second clips), or 'auto'")
        if self.duration != AUTO and self.duration is not None and not isinstance(
                self.duration, (int, float, np.floating)):
            raise InputError(f"duration {self.duration!r} is not a number of seconds; give "
                             "seconds, 'auto' (from the data) or none (every length)")
        if self.extractor == "vggish" and int(self.sample_rate) != 16000:
            raise InputError(f"sample rate {self.sample_rate} Hz: VGGish was trained on 16000 Hz "
                             "audio; use --sample-rate 16000 (clips are resampled to it)")
        if not self.resolved:
            if self.batch_size < 1:
                raise InputError(f"batch size {self.batch_size} must be at least 1")
            object.__setattr__(self, "test_folds", tuple(int(f) for f in self.test_folds))
            return
        if (self.duration is not None and self.extractor != "summary"
                and self.duration + 1e-9 < self.frames * 0.96):
            raise InputError(f"{self.frames} frames of 0.96 s need clips of at least "
                             f"{self.frames * 0.96:.2f} s but the duration is {self.duration:g} s; "
                             f"lower --frames to {max(1, int(self.duration / 0.96))} or raise "
                             "--duration")
        if self.batch_size < 1:
            raise InputError(f"batch size {self.batch_size} must be at least 1")
        object.__setattr__(self, "test_folds", tuple(int(f) for f in self.test_folds))
        self.clip_config()  # validates sample rate, duration, tolerance

    @property
    def resolved(self) -> bool:
        """False while the duration or the frames are still 'auto' (see :func:`clip_policy`)."""
        return self.duration != AUTO and self.frames != AUTO

    def clip_config(self) -> ClipConfig:
        return ClipConfig(sample_rate=int(self.sample_rate), duration=self.duration,
                          tolerance=float(self.tolerance), pad=bool(self.pad))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExtractConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"extraction config: unknown option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        data = dict(data)
        if "test_folds" in data:
            data["test_folds"] = tuple(data["test_folds"] or ())
        return cls(**data)


@dataclass
class Extraction:
    """What :func:`extract_clips` returns: the features and the files left out."""

    data: FeatureSet
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class ClipPolicy:
    """The clip length and frames an extraction uses, and why (reported and stored)."""

    duration: float | None   # seconds every clip is padded/trimmed to (or filtered on); None: any
    frames: int              # 0.96 s examples per clip
    pad: bool                # True: pad/trim to ``duration``; False: keep only clips of it
    source: str              # "layout", "median", "given" or "whole" (summary: own length)
    reason: str              # one sentence for the CLI summary, the page caption and the attrs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------- clip length policy

def clip_lengths(clips: ClipList) -> list[float]:
    """Each clip's length in seconds from its file header (no decoding); unreadable ones left
    out (the extraction lists them as skipped)."""
    from synth_core.data.audio import audio_info

    lengths = []
    for ref in clips.clips:
        try:
            lengths.append(audio_info(ref.path)[0])
        except ClipRejected:
            continue
    return lengths


def clip_policy(clips: ClipList, config: ExtractConfig, *,
                lengths: list[float] | None = None) -> tuple[ExtractConfig, ClipPolicy]:
    """Resolve ``duration="auto"`` / ``frames="auto"`` from the clips.

    The duration is the layout's own clip length when it has one (ESC-50 5 s,
    UrbanSound8K at most 4 s), else the median clip length; every clip is then
    zero-padded or trimmed to it. Frames are the whole 0.96 s examples that fit.
    A given duration or frame count is kept. The ``summary`` extractor averages over
    each whole clip instead (zero padding would pull its averages towards silence), so
    for it "auto" keeps every clip's own length. Returns the resolved config and the
    policy record; ``lengths`` (header durations) is scanned when needed and not given.
    """
    duration, pad, source = config.duration, bool(config.pad), "given"
    if duration == AUTO and config.extractor == "summary":
        from synth_core.data.summary import MAX_SECONDS

        duration, pad, source = None, False, "whole"
        reason = (f"each clip's own length, averaged over the whole clip (the first "
                  f"{MAX_SECONDS:g} s of longer ones), with no padding")
    elif duration == AUTO:
        pad = True
        if clips.clip_seconds:
            duration, source = float(clips.clip_seconds), "layout"
            reason = (f"the {clips.layout} layout's own clip length, {duration:g} s: shorter "
                      "clips are zero-padded, longer ones trimmed")
        else:
            lengths = clip_lengths(clips) if lengths is None else lengths
            typical = float(np.median(lengths)) if lengths else 4.0
            duration = min(max(round(typical, 2), FRAME_SECONDS), MAX_FRAMES * FRAME_SECONDS)
            source = "median"
            spread = (f" (clips last {min(lengths):.2f} to {max(lengths):.2f} s)"
                      if lengths else "")
            reason = (f"the typical (median) length of the {len(lengths)} clips, {duration:g} s"
                      f"{spread}: shorter clips are zero-padded, longer ones trimmed")
    elif duration is None:
        reason = "every clip keeps its own length (the first frames are used)"
    else:
        reason = (f"the given duration, {duration:g} s: "
                  + ("shorter clips are zero-padded, longer ones trimmed" if pad else
                     f"only clips of {duration:g} s (+/- {config.tolerance:g} s) are kept"))
    frames = config.frames
    if config.extractor == "summary":  # one summary of the whole clip, whatever its length
        frames = 1
        reason += "; one summary per clip"
    elif frames == AUTO:
        basis = duration
        if basis is None:
            lengths = clip_lengths(clips) if lengths is None else lengths
            basis = float(np.median(lengths)) if lengths else 4 * FRAME_SECONDS
        frames = int(min(MAX_FRAMES, max(1, np.floor(basis / FRAME_SECONDS + 1e-6))))
        # A spectrogram covers the whole clip: its rows have no 0.96 s frames to speak of.
        reason += ("; one spectrogram per clip" if config.extractor == "spectrogram"
                   else f"; {frames} frame(s) of 0.96 s fit in {basis:g} s")
    elif source != "given" and duration is not None and duration + 1e-9 < frames * FRAME_SECONDS:
        duration = round(frames * FRAME_SECONDS, 2)  # the given frames need this much audio
        reason += f", raised to {duration:g} s for the {frames} frames asked for"
    resolved = replace(config, duration=duration, frames=int(frames), pad=pad)
    return resolved, ClipPolicy(duration=duration, frames=int(frames), pad=pad, source=source,
                                reason=reason)


# ---------------------------------------------------------------------------- extractors

class Extractor(Protocol):
    name: str

    def embed(self, examples: np.ndarray) -> np.ndarray:
        """[n_clips, frames, 96, 64] log-mel examples -> [n_clips, frames, 128]."""

    def attrs(self) -> dict[str, Any]:
        """What to record in the feature file about this extractor."""


class LogMelExtractor:
    """Mean and standard deviation of each mel band over each 0.96 s example."""

    name = "logmel"

    def __init__(self, config: ExtractConfig) -> None:
        self.config = config

    def embed(self, examples: np.ndarray) -> np.ndarray:
        mean = examples.mean(axis=2)  # [n, frames, 64]
        std = examples.std(axis=2)    # [n, frames, 64]
        return np.concatenate([mean, std], axis=2)  # [n, frames, 128]

    def attrs(self) -> dict[str, Any]:
        return {"feature_description": "per 0.96 s frame: mean (64) then standard deviation (64) "
                                       "over time of VGGish's log-mel bands",
                "pretrained": False}


def _spectrogram_extractor(config: ExtractConfig) -> Extractor:
    """Whole log-mel spectrograms that can be inverted to sound (synth_core.data.spectrogram)."""
    from synth_core.data.spectrogram import SpectrogramExtractor

    return SpectrogramExtractor(config)


def _summary_extractor(config: ExtractConfig) -> Extractor:
    """37 hand-crafted numbers per clip (synth_core.data.summary)."""
    from synth_core.data.summary import SummaryExtractor

    return SummaryExtractor(config)


EXTRACTORS: dict[str, Callable[[ExtractConfig], Extractor]] = {
    "logmel": LogMelExtractor,
    "vggish": VGGishExtractor,
    "spectrogram": _spectrogram_extractor,
    "summary": _summary_extractor,
}


# ---------------------------------------------------------------------------- pipeline

def extract_clips(source: str | os.PathLike[str] | ClipList, config: ExtractConfig | None = None,
                  *, callback: Callback | None = None) -> Extraction:
    """Features of every usable clip under ``source``; bad clips are skipped and listed."""
    import time

    started = time.perf_counter()
    config = config or ExtractConfig()
    clips = source if isinstance(source, ClipList) else discover_clips(source, labels=config.labels)
    skipped = list(clips.skipped)
    for item in skipped:
        emit(callback, Log(f"skipped {item.file}: {item.reason}", level="warning"))
    if clips.reading:
        emit(callback, Log(clips.reading))
    for note in clips.notes:
        emit(callback, Log(note, level="warning"))
    emit(callback, Progress(0.0, f"found {len(clips.clips)} clips ({clips.layout} layout); "
                                 "deciding the clip length", stage="extract"))
    config, policy = clip_policy(clips, config)
    emit(callback, Log(f"clip length: {policy.reason}"))
    emit(callback, Progress(0.0, f"loading the {config.extractor} extractor", stage="extract"))
    extractor = EXTRACTORS[config.extractor](config)
    # An extractor may analyse whole clips itself (spectrogram) instead of 0.96 s examples.
    clip_input = getattr(extractor, "clip_input", None)
    clip_config = config.clip_config()
    # Clips per network pass: batch_size examples (64 -> 16 clips of 4 frames).
    clips_per_batch = max(1, config.batch_size // config.frames)
    rows: list[np.ndarray] = []
    kept: list[ClipRef] = []
    durations: list[float] = []
    kept_lengths: list[float] = []  # source seconds of the clips that were used
    pending: list[np.ndarray] = []
    pending_refs: list[ClipRef] = []
    total = len(clips.clips)

    def flush() -> None:
        if pending:
            rows.append(extractor.embed(np.stack(pending)).reshape(len(pending), -1))
            kept.extend(pending_refs)
            pending.clear()
            pending_refs.clear()

    # The log-mel matrices are tiny ([400, 257] x [257, 64] per clip): multi-threaded
    # OpenBLAS spends more time waking threads (and fighting torch's) than computing,
    # 20 ms instead of 0.6 ms per clip measured on 2 cores. numpy's BLAS runs on one
    # thread here; torch's own thread pool (MKL/OpenMP) is not affected.
    with threadpool_limits(limits=1, user_api="blas"):
        for i, ref in enumerate(clips.clips):
            try:
                pending.append(clip_input(ref, clip_config, durations) if clip_input else
                               _clip_examples(ref, config, clip_config, durations))
                pending_refs.append(ref)
                kept_lengths.append(durations[-1])
            except ClipRejected as exc:
                skipped.append(Skipped(ref.id or str(ref.path), str(exc).split(": ", 1)[-1]))
                emit(callback, Log(f"skipped {exc}", level="warning"))
            if len(pending) >= clips_per_batch or i + 1 == total:
                flush()
            if len(pending) == 0 or i + 1 == total:
                emit(callback, Progress((i + 1) / max(total, 1) * 0.98,
                                        f"{i + 1}/{total} clips read, {len(kept)} extracted, "
                                        f"{len(skipped) - len(clips.skipped)} skipped",
                                        stage="extract"))
        flush()
    if not kept:
        first = f" - e.g. {skipped[0].file}: {skipped[0].reason}" if skipped else ""
        raise InputError(f"input {clips.root}: none of the {total} clips could be used{first}")
    features = np.concatenate(rows).astype(np.float32)  # [n_kept, frames*128]
    data = FeatureSet(
        features=features,
        labels=np.array([r.label for r in kept], dtype=np.int64),
        class_names=clips.class_names,
        ids=[str(r.path.absolute()) for r in kept],
        folds=np.array([r.fold for r in kept]) if all(r.fold is not None for r in kept) else None,
        attrs=_attrs(config, extractor, clips, skipped, durations))
    data.attrs.update(_policy_attrs(policy, kept_lengths, config.tolerance))
    data.check_finite("extracted features")
    _attach_scaler(data, config.test_folds)
    emit(callback, Progress(1.0, f"extracted {data.n_samples} clips, skipped {len(skipped)}",
                            stage="extract"))
    return Extraction(data=data, skipped=skipped, seconds=time.perf_counter() - started)


def _clip_examples(ref: ClipRef, config: ExtractConfig, clip_config: ClipConfig,
                   durations: list[float]) -> np.ndarray:
    """One clip's log-mel examples [frames, 96, 64].

    Its source duration is appended to ``durations`` as soon as the file decodes,
    so the histogram also counts clips the duration filter then rejects.
    """
    needed = samples_for_frames(config.frames, config.sample_rate)
    # Decode only what is used (bounded memory for long recordings): the kept duration,
    # or the first frames when clips keep their own length.
    head = (config.duration + config.tolerance if config.duration is not None
            else needed / config.sample_rate) + 0.05
    waveform, rate, duration = read_audio_head(ref.path, head)
    durations.append(duration)
    clip = prepare_waveform(waveform, rate, clip_config, name=ref.id or ref.path.name,
                            source_duration=duration)
    wave = clip.waveform
    if wave.shape[0] < needed:
        if not (config.pad or config.duration is not None):
            raise ClipRejected(
                f"{ref.id}: lasts {duration:.2f} s, too short for {config.frames} frames of "
                f"0.96 s ({needed / config.sample_rate:.2f} s); choose pad, or fewer frames")
        wave = fit_length(wave, needed)  # duration >= frames*0.96 s: a few ms short at most
    return log_mel_examples(wave, config.sample_rate, config.frames)


def extract_features(source: str | os.PathLike[str] | ClipList,
                     config: ExtractConfig | None = None, *,
                     callback: Callback | None = None) -> FeatureSet:
    """:func:`extract_clips` without the list of skipped files (they are in the attrs)."""
    return extract_clips(source, config, callback=callback).data


def _attrs(config: ExtractConfig, extractor: Extractor, clips: ClipList,
           skipped: list[Skipped], durations: list[float]) -> dict[str, Any]:
    counts, edges = np.histogram(durations, bins=20) if durations else (np.zeros(0), np.zeros(0))
    return {
        "source": str(clips.root.absolute()), "modality": "audio", "layout": clips.layout,
        "extractor": config.extractor, "frames": int(config.frames),
        "sample_rate": int(config.sample_rate),
        "feature_shape": [int(config.frames), EMBEDDING_SIZE],
        "duration": config.duration if config.duration is not None else "any",
        "duration_tolerance": float(config.tolerance), "pad": bool(config.pad),
        "extract_config": asdict(config),
        "n_skipped": len(skipped),
        "skipped": [f"{s.file}: {s.reason}" for s in skipped[:_MAX_SKIPPED_ATTR]],
        "layout_notes": list(clips.notes), "layout_reading": clips.reading,
        "duration_histogram": {"edges": [round(float(e), 4) for e in edges],
                               "counts": [int(c) for c in counts]},
        **extractor.attrs()}


def _policy_attrs(policy: ClipPolicy, kept_lengths: list[float],
                  tolerance: float) -> dict[str, Any]:
    """The derived clip policy and how many used clips were padded or trimmed to it."""
    lengths = np.asarray(kept_lengths, dtype=np.float64)
    n_padded = n_trimmed = 0
    if policy.pad and policy.duration is not None and lengths.size:
        n_padded = int((lengths < policy.duration - tolerance).sum())
        n_trimmed = int((lengths > policy.duration + tolerance).sum())
    return {"duration_policy": policy.source, "duration_reason": policy.reason,
            "n_padded": n_padded, "n_trimmed": n_trimmed}


def _attach_scaler(data: FeatureSet, test_folds: tuple[int, ...]) -> None:
    """Min-max scaler fitted on all rows, or on the rows outside ``test_folds``."""
    train = np.ones(data.n_samples, dtype=bool)
    if test_folds:
        if data.folds is None:
            raise InputError(f"test folds {list(test_folds)} given but this data has no folds; "
                             "leave the test folds empty")
        train = ~np.isin(data.folds, test_folds)
        if not train.any():
            raise InputError(f"test folds {list(test_folds)} hold every row; leave some folds "
                             "for training")
    scaler = MinMaxScaling().fit(data.features[train])
    data.scaler = {"data_min": scaler.data_min_, "data_max": scaler.data_max_}
    data.attrs["scaler_fitted_on"] = (f"rows outside folds {list(test_folds)}" if test_folds
                                      else "all rows")


def extract_job(params: dict[str, Any], ctx) -> dict[str, Any]:
    """Job kind ``extract``. params: input (folder, file or .zip), out (name or path),
    overwrite (bool), config (ExtractConfig fields)."""
    from synth_core.workspace import get_workspace

    workspace = getattr(ctx, "workspace", None) or get_workspace()
    return extract_to_file(str(params.get("input", "")), params.get("out", ""),
                           ExtractConfig.from_dict(params.get("config") or {}), workspace,
                           overwrite=bool(params.get("overwrite")), callback=ctx)


def extract_to_file(source: str | os.PathLike[str], out: str, config: ExtractConfig,
                    workspace: Workspace, *, overwrite: bool = False,
                    callback: Callback | None = None) -> dict[str, Any]:
    """Extract ``source`` (a .zip is unpacked under uploads/ first) into the feature file
    ``out`` (see :func:`importers.output_path`); returns :func:`summary`. The job and the
    CLI verb both run this."""
    from synth_core.data.datasets import dataset_ref_for_path
    from synth_core.features import write_features
    from synth_core.data.importers import output_path
    from synth_core.data.uploads import unpack_zip

    path = output_path(out, workspace, overwrite=overwrite)  # refused before any work
    source = Path(source).expanduser()
    if source.suffix.lower() == ".zip" and source.is_file():
        source = unpack_zip(source, workspace, name=source.stem)
    result = extract_clips(source, config, callback=callback)
    write_features(path, result.data, overwrite=overwrite)
    return summary(result, path, dataset_ref_for_path(path, workspace))


def summary(result: Extraction, out: Path, ref: str, *, max_skipped: int = 200) -> dict[str, Any]:
    """The JSON summary the CLI prints and the job stores."""
    data = result.data
    counts = np.bincount(data.labels[data.labels >= 0], minlength=data.n_classes)
    return {
        "message": f"extracted {data.n_samples} clips into {out.name} "
                   f"({len(result.skipped)} skipped)",
        "path": str(out), "dataset": ref, "n_clips": data.n_samples,
        "n_features": data.n_features, "n_classes": data.n_classes,
        "class_counts": {name: int(c) for name, c in zip(data.class_names, counts)},
        "extractor": data.attrs.get("extractor"), "layout": data.attrs.get("layout"),
        "duration": data.attrs.get("duration"), "frames": data.attrs.get("frames"),
        "duration_policy": data.attrs.get("duration_reason"),
        "n_padded": data.attrs.get("n_padded", 0), "n_trimmed": data.attrs.get("n_trimmed", 0),
        "n_skipped": len(result.skipped),
        "skipped": [s.to_dict() for s in result.skipped[:max_skipped]],
        "notes": list(data.attrs.get("layout_notes") or []),
        "layout_reading": data.attrs.get("layout_reading") or "",
        "seconds": round(result.seconds, 2),
        "clips_per_second": round(data.n_samples / result.seconds, 1) if result.seconds else None}
