"""VGGish's input pipeline, network and weights (torchvggish), for the extractors.

The log-mel front end (16 kHz mono, 25 ms windows, 10 ms hop, 64 mel bands,
125-7500 Hz, cut into 0.96 s examples of [96 frames, 64 bands]) that both the
``logmel`` and the ``vggish`` extractors start from; the VGGish network and its
AudioSet post-processor, with weights from torch hub's cache or the files named
by ``$SYNTH_VGGISH_WEIGHTS`` / ``$SYNTH_VGGISH_PCA`` (loaded with
``weights_only=True``), and the message that says how to get them when missing.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synth_core.devices import resolve_device
from synth_core.errors import WeightsMissingError

if TYPE_CHECKING:
    from synth_core.data.extraction import ExtractConfig

logger = logging.getLogger(__name__)

VGGISH_WEIGHTS_FILE = "vggish-10086976.pth"
VGGISH_PCA_FILE = "vggish_pca_params-970ea276.pth"
_RELEASE = "https://github.com/harritaylor/torchvggish/releases/download/v0.1/"
VGGISH_URL = _RELEASE + VGGISH_WEIGHTS_FILE  # = torchvggish.torchvggish.VGGISH_WEIGHTS
PCA_URL = _RELEASE + VGGISH_PCA_FILE  # = torchvggish.torchvggish.PCA_PARAMS
WEIGHTS_ENV = "SYNTH_VGGISH_WEIGHTS"
PCA_ENV = "SYNTH_VGGISH_PCA"
EMBEDDING_SIZE = 128
EXAMPLE_FRAMES = 96  # log-mel frames per 0.96 s example
MEL_BANDS = 64

# ---------------------------------------------------------------------------- log-mel front end

def _torchvggish_part(name: str):
    """``torchvggish.<name>`` for the numpy-only parts (mel_features, vggish_params).

    Importing them the usual way runs ``torchvggish/__init__``, which imports
    torch and resampy (numba): ~3 s before the first weight-free log-mel
    feature. These two files import only numpy, so they are loaded on their own.
    """
    import importlib.util
    import sys

    full = f"torchvggish.{name}"
    if full in sys.modules:
        return sys.modules[full]
    key = f"synth_core._torchvggish_{name}"
    if key not in sys.modules:
        spec = importlib.util.find_spec("torchvggish")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("torchvggish is not installed; pip install -r requirements.txt")
        path = Path(list(spec.submodule_search_locations)[0]) / f"{name}.py"
        module_spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        sys.modules[key] = module
    return sys.modules[key]


def stft_params(sample_rate: int) -> tuple[int, int]:
    """(window, hop) in samples: VGGish's 25 ms / 10 ms at ``sample_rate``."""
    vp = _torchvggish_part("vggish_params")

    return (int(round(vp.STFT_WINDOW_LENGTH_SECONDS * sample_rate)),
            int(round(vp.STFT_HOP_LENGTH_SECONDS * sample_rate)))


def samples_for_frames(frames: int, sample_rate: int) -> int:
    """Fewest samples that give ``frames`` whole 0.96 s examples (4 -> 61680 at 16 kHz)."""
    window, hop = stft_params(sample_rate)
    return (frames * EXAMPLE_FRAMES - 1) * hop + window


def log_mel(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """VGGish's log-mel spectrogram of a mono waveform: [n_frames, 64] (10 ms frames).

    The same computation as ``mel_features.log_mel_spectrogram`` (and built from
    its pieces: ``frame``, ``periodic_hann``, ``spectrogram_to_mel_matrix``), in
    float32 with the window and mel matrix made once per rate: about twice as
    fast, equal to float32 precision (tests compare the two).
    """
    mel_features = _torchvggish_part("mel_features")
    window, hop = stft_params(sample_rate)
    hann, mel_matrix, fft_length = _mel_tables(sample_rate)
    frames = mel_features.frame(np.asarray(waveform, dtype=np.float32), window, hop)  # [n, window]
    spectrum = np.abs(np.fft.rfft(frames * hann, fft_length))  # [n, fft/2 + 1]
    vp = _torchvggish_part("vggish_params")
    return np.log(spectrum @ mel_matrix + np.float32(vp.LOG_OFFSET))  # [n, 64]


@lru_cache(maxsize=8)
def _mel_tables(sample_rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(periodic Hann window, [fft/2+1, 64] mel matrix, fft length) for ``sample_rate``."""
    mel_features = _torchvggish_part("mel_features")
    vp = _torchvggish_part("vggish_params")
    window, _ = stft_params(sample_rate)
    fft_length = 2 ** int(np.ceil(np.log(window) / np.log(2.0)))
    mel = mel_features.spectrogram_to_mel_matrix(
        num_mel_bins=vp.NUM_MEL_BINS, num_spectrogram_bins=fft_length // 2 + 1,
        audio_sample_rate=sample_rate, lower_edge_hertz=vp.MEL_MIN_HZ,
        upper_edge_hertz=min(vp.MEL_MAX_HZ, 0.5 * sample_rate - 1.0))
    return (mel_features.periodic_hann(window).astype(np.float32), mel.astype(np.float32),
            fft_length)


def log_mel_examples(waveform: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """The first ``frames`` 0.96 s examples of a clip: [frames, 96, 64].

    The waveform must hold at least :func:`samples_for_frames` samples; only
    what the examples need is transformed (later audio is ignored).
    """
    needed = samples_for_frames(frames, sample_rate)
    spec = log_mel(waveform[:needed], sample_rate)  # [frames*96, 64]
    return spec[: frames * EXAMPLE_FRAMES].reshape(frames, EXAMPLE_FRAMES, MEL_BANDS)

class VGGishExtractor:
    """VGGish embeddings (torchvggish), batched, on the GPU when there is one."""

    name = "vggish"

    def __init__(self, config: ExtractConfig) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.model, self.weights_file = load_vggish(pretrained=config.pretrained,
                                                    device=self.device)
        self.pproc = load_postprocessor(self.device) if config.postprocess else None

    def embed(self, examples: np.ndarray) -> np.ndarray:
        import torch

        n, frames = examples.shape[:2]
        out = np.empty((n * frames, EMBEDDING_SIZE), dtype=np.float32)
        flat = examples.reshape(n * frames, 1, EXAMPLE_FRAMES, MEL_BANDS)  # NCHW for the VGG
        step = max(1, int(self.config.batch_size))
        with torch.inference_mode():
            for start in range(0, n * frames, step):
                batch = torch.from_numpy(np.ascontiguousarray(flat[start:start + step]))
                emb = self.model(batch.to(self.device))  # [b, 128]
                if self.pproc is not None:
                    emb = self.pproc.postprocess(emb)
                out[start:start + step] = emb.reshape(-1, EMBEDDING_SIZE).float().cpu().numpy()
        return out.reshape(n, frames, EMBEDDING_SIZE)

    def attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "pretrained": bool(self.config.pretrained),
            "postprocess": bool(self.config.postprocess),
            "embedding": ("PCA-whitened, 8-bit quantised (0..255) AudioSet embedding"
                          if self.config.postprocess else "raw 128-d embedding (ReLU output)"),
            "weights": self.weights_file,
            "device": str(self.device)}
        if not self.config.pretrained:
            attrs["warning"] = ("UNTRAINED VGGish network (random weights): for tests and timing "
                                "only, these features mean nothing")
        return attrs

# ---------------------------------------------------------------------------- VGGish weights

def _hub_checkpoint(name: str) -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / name


def vggish_weights_path() -> Path:
    """Where the VGGish weights are looked for: ``$SYNTH_VGGISH_WEIGHTS`` or the hub cache."""
    return Path(os.environ[WEIGHTS_ENV]).expanduser() if os.environ.get(WEIGHTS_ENV) \
        else _hub_checkpoint(VGGISH_WEIGHTS_FILE)


def vggish_pca_path() -> Path:
    """Where the PCA parameters are looked for: ``$SYNTH_VGGISH_PCA`` or the hub cache."""
    return Path(os.environ[PCA_ENV]).expanduser() if os.environ.get(PCA_ENV) \
        else _hub_checkpoint(VGGISH_PCA_FILE)


def missing_weights_message(*, postprocess: bool = False) -> str | None:
    """What to do when the VGGish files are missing (None when they are in place)."""
    if not vggish_weights_path().is_file():
        return _missing_message("weights", vggish_weights_path(), VGGISH_URL, WEIGHTS_ENV,
                                VGGISH_WEIGHTS_FILE)
    if postprocess and not vggish_pca_path().is_file():
        return _missing_message("PCA parameters", vggish_pca_path(), PCA_URL, PCA_ENV,
                                VGGISH_PCA_FILE)
    return None


def _missing_message(what: str, path: Path, url: str, env: str, file_name: str) -> str:
    return (f"VGGish {what} not found at {path}. To get them, on a machine with internet run  "
            f"python -c \"import torch; torch.hub.load_state_dict_from_url('{url}')\"  "
            f"(or download {url} in a browser), "
            f"then copy {file_name} to {_hub_checkpoint(file_name)} on this machine, or anywhere "
            f"and set {env}=/path/to/{file_name}. The 'logmel' extractor needs no weights.")


def _torch_load(path: Path, what: str) -> Any:
    """``torch.load(weights_only=True)`` that also accepts numpy arrays (the PCA file)."""
    import pickle

    import torch

    rec = np._core.multiarray._reconstruct
    allowed = [rec, (rec, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
               np.dtypes.Float64DType, np.dtypes.Float32DType]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise WeightsMissingError(
            f"VGGish {what} file {path} could not be loaded ({' '.join(str(exc).split())[:200]}); "
            "it is damaged or not the published file - download it again") from exc


def load_vggish(*, pretrained: bool = True, device: Any = "cpu"):
    """The VGGish network (no postprocessing) in eval mode, and the weights' file name.

    ``pretrained=False`` returns an untrained network (tests and timing only).
    """
    from torchvggish.torchvggish import _vgg

    weights, state = "none (untrained)", None
    if pretrained:  # check and read the file before building the 72M-parameter network
        message = missing_weights_message()
        if message:
            raise WeightsMissingError(message)
        path = vggish_weights_path()
        state, weights = _torch_load(path, "weights"), path.name
    model = _vgg(postprocess=False)
    if state is not None:
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise WeightsMissingError(f"VGGish weights file {weights} does not match the "
                                      f"network ({str(exc)[:200]}); use {VGGISH_WEIGHTS_FILE} "
                                      f"from {VGGISH_URL}") from exc
    return model.to(device).eval(), weights


def load_postprocessor(device: Any = "cpu"):
    """torchvggish's PCA + quantisation postprocessor with parameters from a local file.

    torchvggish's own constructor downloads the parameters; here they are read
    from :func:`vggish_pca_path` (``.pth`` as published, or AudioSet's ``.npz``).
    """
    import torch
    from torchvggish.torchvggish import Postprocessor

    path = vggish_pca_path()
    if not path.is_file():
        raise WeightsMissingError(_missing_message("PCA parameters", path, PCA_URL, PCA_ENV,
                                                   VGGISH_PCA_FILE))
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            params = {k: npz[k] for k in npz.files}
    else:
        params = _torch_load(path, "PCA parameters")
    if not {"pca_eigen_vectors", "pca_means"} <= set(params):
        raise WeightsMissingError(f"VGGish PCA file {path} lacks pca_eigen_vectors/pca_means; "
                                  f"download {PCA_URL} again")
    pproc = Postprocessor.__new__(Postprocessor)  # skip the downloading __init__
    pproc._pca_matrix = torch.as_tensor(np.asarray(params["pca_eigen_vectors"])).float().to(device)
    pproc._pca_means = torch.as_tensor(
        np.asarray(params["pca_means"]).reshape(-1, 1)).float().to(device)
    return pproc
