"""Every bad input named in the issues, against the CLI: exit 2, one clear line, nothing lost.

Each case builds its bad input in a temporary folder, runs
``synth_core.cli.main(argv)`` in-process with ``--json`` and checks

* exit code 2, stdout exactly one JSON line ``{"ok": false, "error": ...}``;
* stderr ends with one ``error: ...`` line (progress lines may come before it),
  with no traceback, and the message holds the parts the case names (the input,
  the problem, the fix) - compared case-insensitively;
* nothing that existed before changed: every file under the workspace and the
  case's input folder has the same hash afterwards, and the ``--out`` target was
  not created. Cases marked ``overwrite`` pre-create ``--out`` with sentinel
  bytes and pass ``--overwrite``: the failing command must leave it untouched.

A few cases run as a real subprocess to check the same contract end to end.
Inputs that the tool accepts on purpose (stereo, odd sample rates, a folder
with some bad clips among good ones) are checked to succeed and to list the
skipped files with a reason.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest
import soundfile as sf

from synth_core.cli import main
from synth_core.data.datasets import save_dataset
from synth_core.features import FeatureSet, write_features
from synth_core.workspace import Workspace, get_workspace
from tests.conftest import ROOT, make_blobs

SENTINEL = b"existing output that must survive a failing command\n"


# --------------------------------------------------------------------------- fixtures


def _tone(path: Path, seconds: float = 1.0, rate: int = 8000, freq: float = 440.0, *,
          channels: int = 1, amplitude: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * rate))) / rate
    wave = amplitude * np.sin(2 * np.pi * freq * t)
    if channels > 1:
        wave = np.stack([wave] * channels, axis=1)
    sf.write(path, wave, rate)
    return path


def _train(ws: Workspace, data_name: str, model: str) -> Path:
    from synth_core.training.config import TrainConfig
    from synth_core.training.trainer import new_run_dir, train_model
    from synth_core.data.datasets import load_dataset

    config = TrainConfig(model=model, latent_dim=2, hidden=(8,), lr=1e-2, epochs=2,
                         batch_size=16, patience=0, seed=0, device="cpu")
    result = train_model(load_dataset(data_name, ws), config, run_dir=new_run_dir(ws, model),
                         dataset_ref=data_name)
    return Path(result.run_dir)


@dataclass
class Shared:
    """A workspace with small datasets and two tiny trained runs (built once per module)."""

    ws: Workspace
    vae: Path
    cvae: Path
    real16: Path      # 90 rows x 16 features, 3 classes (class_0..class_2)
    other8: Path      # 90 rows x 8 features
    relabeled: Path   # 16 features, classes a, b, c (labels do not match real16)
    tiny: Path        # 4 rows x 16 features


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    root = tmp_path_factory.mktemp("robust-cli")
    ws = get_workspace(root / "workspace")
    blobs = make_blobs(n_per_class=30, n_features=16, n_classes=3)
    save_dataset(blobs, "blobs", ws)
    vae, cvae = _train(ws, "blobs", "vae"), _train(ws, "blobs", "cvae")
    other = make_blobs(n_per_class=30, n_features=8, n_classes=3, seed=1)
    relabeled = FeatureSet(features=blobs.features, labels=blobs.labels,
                           class_names=["a", "b", "c"])
    tiny = blobs.subset(np.array([0, 1, 30, 31]))
    files = root / "files"
    paths = {}
    for name, data in (("real16", blobs), ("other8", other), ("relabeled", relabeled),
                       ("tiny", tiny)):
        paths[name] = write_features(files / f"{name}.h5", data)
    return Shared(ws=ws, vae=vae, cvae=cvae, **paths)


@dataclass
class Case:
    argv: list[str]
    parts: tuple[str, ...]
    out: Path | None = None          # --out target: must not appear (or keep SENTINEL)
    overwrite: bool = False          # pre-create `out` with SENTINEL and pass --overwrite
    watch: list[Path] = field(default_factory=list)  # more folders whose files must not change
    absent: tuple[str, ...] = ()     # text the message must not show (e.g. a password)


Builder = Callable[[Shared, Path], Case]


# --------------------------------------------------------------------------- helpers


def _snapshot(*roots: Path) -> dict[str, str]:
    """Hash of every file under ``roots`` (jobs/ and cache/ may gain files, never lose them)."""
    digests = {}
    for root in roots:
        if root.is_file():
            digests[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
            continue
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if path.is_file():
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _run_main(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_failure_contract(code: int, out: str, err: str, parts: tuple[str, ...]) -> str:
    assert code == 2, f"exit code {code}, expected 2\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in err, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, f"stdout must be one JSON line, got: {out!r}"
    payload = json.loads(lines[0])
    assert payload["ok"] is False
    message = payload["error"]
    assert "\n" not in message
    error_lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and err.strip().splitlines()[-1] == f"error: {message}", err
    missing = [p for p in parts if p.lower() not in message.lower()]
    assert not missing, f"message lacks {missing}: {message}"
    return message


# --------------------------------------------------------------------------- data step


def _clips_dir(tmp: Path, bad: dict[str, Callable[[Path], None]]) -> Path:
    """clips/<class>/<file> holding only the given bad files."""
    root = tmp / "clips"
    for rel, make in bad.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
    return root


def _extract(shared: Shared, tmp: Path, source: Path, *extra: str) -> Case:
    out = tmp / "out" / "features.h5"
    return Case(["--workspace", str(shared.ws.root), "--json", "extract", "--input", str(source),
                 "--out", str(out), "--duration", "none", "--frames", "1", *extra],
                parts=(), out=out, watch=[source])


def corrupt_audio(shared, tmp):
    source = _clips_dir(tmp, {"a/broken.wav": lambda p: p.write_bytes(b"RIFF\x00\x00junk" * 20)})
    case = _extract(shared, tmp, source)
    case.parts = ("broken.wav", "none of the 1 clips could be used")
    return case


def empty_audio(shared, tmp):
    source = _clips_dir(tmp, {"a/empty.wav": lambda p: p.write_bytes(b"")})
    case = _extract(shared, tmp, source)
    case.parts = ("empty.wav", "could be used")
    return case


def silent_audio(shared, tmp):
    source = _clips_dir(tmp, {"a/quiet.wav": lambda p: sf.write(p, np.zeros(16000), 16000)})
    case = _extract(shared, tmp, source)
    case.parts = ("quiet.wav", "silent")
    return case


def non_audio_file(shared, tmp):
    source = _clips_dir(tmp, {"a/notes.wav": lambda p: p.write_text("just some text\n" * 50)})
    case = _extract(shared, tmp, source)
    case.parts = ("notes.wav", "could be used")
    return case


def clip_shorter_than_a_frame(shared, tmp):
    source = _clips_dir(tmp, {"a/blip.wav": lambda p: _tone(p, seconds=0.1, rate=16000)})
    case = _extract(shared, tmp, source)
    case.parts = ("blip.wav", "could be used", "0.96")
    return case


def unknown_extensions_only(shared, tmp):
    source = _clips_dir(tmp, {"a/clip.mp3": lambda p: p.write_bytes(b"ID3" + b"\0" * 100),
                              "b/clip.xyz": lambda p: p.write_bytes(b"\0" * 100)})
    case = _extract(shared, tmp, source)
    case.parts = ("clips", "no usable audio clips", ".wav")
    return case


def missing_input_folder(shared, tmp):
    case = _extract(shared, tmp, tmp / "no-such-folder")
    case.watch = []
    case.parts = ("no-such-folder",)
    return case


def _zip(tmp: Path, entries: dict[str, bytes], name: str = "clips.zip") -> Path:
    path = tmp / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry, data in entries.items():
            zf.writestr(entry, data)
    return path


def _wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(seconds * rate)) / rate
    sf.write(buffer, 0.5 * np.sin(2 * np.pi * 440 * t), rate, format="WAV")
    return buffer.getvalue()


def zip_slip(shared, tmp):
    archive = _zip(tmp, {"a/ok.wav": _wav_bytes(), "../../evil.wav": _wav_bytes()})
    case = _extract(shared, tmp, archive)
    case.parts = ("clips.zip", "../../evil.wav", "..", "refused")
    case.watch = [archive, tmp]  # nothing written next to the archive or above it
    return case


def zip_absolute_path(shared, tmp):
    archive = _zip(tmp, {"/etc/evil.wav": _wav_bytes()})
    case = _extract(shared, tmp, archive)
    case.parts = ("clips.zip", "absolute path", "relative paths")
    return case


def zip_bomb(shared, tmp):
    archive = _zip(tmp, {"a/bomb.wav": b"\0" * (50 * 1024 ** 2)})
    case = _extract(shared, tmp, archive)
    case.parts = ("clips.zip", "bomb.wav", "zip bomb")
    return case


def zip_not_a_zip(shared, tmp):
    archive = tmp / "clips.zip"
    archive.write_bytes(b"this is not a zip archive" * 10)
    case = _extract(shared, tmp, archive)
    case.parts = ("clips.zip", "not a readable zip")
    return case


def _import(shared: Shared, tmp: Path, source: Path, *extra: str) -> Case:
    out = tmp / "out" / "imported.h5"
    return Case(["--workspace", str(shared.ws.root), "--json", "import", "--input", str(source),
                 "--out", str(out), *extra], parts=(), out=out, watch=[source])


def csv_missing_value(shared, tmp):
    (tmp / "m.csv").write_text("f1,f2,label\n0.1,0.2,a\n0.3,,b\n")
    case = _import(shared, tmp, tmp / "m.csv")
    case.parts = ("m.csv", "'f2'", "missing values", "line")
    return case


def csv_non_numeric(shared, tmp):
    (tmp / "m.csv").write_text("f1,f2,label\n0.1,0.2,a\n0.3,oops,b\n")
    case = _import(shared, tmp, tmp / "m.csv")
    case.parts = ("m.csv", "f2", "non-numeric")
    return case


def csv_nan_and_inf(shared, tmp):
    (tmp / "m.csv").write_text("f1,f2,label\n0.1,nan,a\n0.3,inf,b\n0.5,0.6,a\n")
    case = _import(shared, tmp, tmp / "m.csv")
    case.parts = ("m.csv", "nan", "'f2'", "lines 2")
    return case


def csv_empty(shared, tmp):
    (tmp / "m.csv").write_text("")
    case = _import(shared, tmp, tmp / "m.csv")
    case.parts = ("m.csv",)
    return case


def csv_header_only(shared, tmp):
    (tmp / "m.csv").write_text("f1,f2,label\n")
    case = _import(shared, tmp, tmp / "m.csv")
    case.parts = ("m.csv", "no data rows")
    return case


def csv_label_column_missing(shared, tmp):
    (tmp / "m.csv").write_text("f1,f2,label\n0.1,0.2,a\n0.3,0.4,b\n")
    case = _import(shared, tmp, tmp / "m.csv", "--label-column", "species")
    case.parts = ("m.csv", "species", "columns are", "last")
    return case


def npz_with_nan(shared, tmp):
    np.savez(tmp / "m.npz", X=np.array([[0.1, np.nan], [0.3, 0.4]]), y=np.array([0, 1]))
    case = _import(shared, tmp, tmp / "m.npz")
    case.parts = ("m.npz", "nan", "row")
    return case


def npz_without_x(shared, tmp):
    np.savez(tmp / "m.npz", something=np.zeros((3, 2)))
    case = _import(shared, tmp, tmp / "m.npz")
    case.parts = ("m.npz", "'X'", "numpy.savez")
    return case


def hdf5_other_layout(shared, tmp):
    with h5py.File(tmp / "other.h5", "w") as handle:
        handle["a"] = np.zeros((4, 3))
        handle["b"] = np.zeros((5, 2))
    case = _import(shared, tmp, tmp / "other.h5")
    case.parts = ("other.h5", "/features", "found a, b")
    return case


def hdf5_not_hdf5(shared, tmp):
    (tmp / "fake.h5").write_bytes(b"not hdf5 at all" * 10)
    case = _import(shared, tmp, tmp / "fake.h5")
    case.parts = ("fake.h5", "not a readable hdf5")
    return case


def import_unknown_extension(shared, tmp):
    (tmp / "m.xlsx").write_bytes(b"PK\x03\x04")
    case = _import(shared, tmp, tmp / "m.xlsx")
    case.parts = ("m.xlsx", "unknown file type", ".csv")
    return case


def import_missing_file(shared, tmp):
    case = _import(shared, tmp, tmp / "gone.csv")
    case.watch = []
    case.parts = ("gone.csv", "no such file")
    return case


# --------------------------------------------------------------------------- train


def _train_case(shared: Shared, tmp: Path, *extra: str, data: Path | str | None = None) -> Case:
    out = tmp / "run"
    return Case(["--workspace", str(shared.ws.root), "--json", "train", "--data",
                 str(data or shared.real16), "--out", str(out), "--epochs", "2", "--device",
                 "cpu", "--hidden", "8", "--batch-size", "16", "--latent-dim", "2", *extra], parts=(), out=out)


def latent_zero(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", "--latent-dim", "0")
    case.parts = ("latent_dim", "0")
    return case


def latent_above_features(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", "--latent-dim", "17")
    case.parts = ("latent_dim", "17", "16")
    return case


def lr_zero(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", "--lr", "0")
    case.parts = ("lr", "positive", "0")
    return case


def lr_negative(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", "--lr", "-0.01")
    case.parts = ("lr", "positive", "-0.01")
    return case


def fewer_rows_than_a_batch(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", "--batch-size", "64",
                       data=shared.tiny)
    case.parts = ("tiny.h5", "rows")
    return case


def nan_in_training_data(shared, tmp):
    blobs = make_blobs(n_per_class=10, n_features=16)
    blobs.features[3, 2] = np.nan
    path = write_features(tmp / "nan.h5", blobs)
    case = _train_case(shared, tmp, "--model", "vae", data=path)
    case.parts = ("nan.h5", "nan", "row")
    case.watch = [path]
    return case


def cvae_one_class(shared, tmp):
    blobs = make_blobs(n_per_class=20, n_features=16, n_classes=1)
    path = write_features(tmp / "one.h5", blobs)
    case = _train_case(shared, tmp, "--model", "cvae", data=path)
    case.parts = ("one.h5", "cvae", "two classes")
    case.watch = [path]
    return case


def train_missing_dataset(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae", data="no-such-dataset")
    case.parts = ("no-such-dataset", "not found", "builtin:digits")
    return case


def train_bad_hidden(shared, tmp):
    case = _train_case(shared, tmp, "--model", "vae")
    case.argv[case.argv.index("--hidden") + 1] = "64,abc"
    case.parts = ("hidden", "64,abc")
    return case


# --------------------------------------------------------------------------- tune


def _tune_case(shared: Shared, tmp: Path, *extra: str, storage: str | None = None) -> Case:
    db = tmp / "studies.db"
    return Case(["--workspace", str(shared.ws.root), "--json", "tune", "--data",
                 str(shared.real16), "--model", "vae", "--study", "s1", "--storage",
                 storage or f"sqlite:///{db}", "--trials", "1", "--device", "cpu", *extra],
                parts=(), out=db if storage is None else None)


_RANGES = {"latent_dim": [2, 8], "hidden": [8, 16], "lr": [1e-3, 1e-2], "epochs": [1, 2]}


def tune_inverted_range(shared, tmp):
    case = _tune_case(shared, tmp, "--ranges", json.dumps({**_RANGES, "lr": [1e-2, 1e-3]}))
    case.parts = ("learning rate", "lr", "inverted")
    return case


def tune_empty_range(shared, tmp):
    case = _tune_case(shared, tmp, "--ranges", json.dumps({**_RANGES, "hidden": []}))
    case.parts = ("hidden", "[low, high]")
    return case


def tune_zero_trials(shared, tmp):
    case = _tune_case(shared, tmp, "--ranges", json.dumps(_RANGES))
    case.argv[case.argv.index("--trials") + 1] = "0"
    case.parts = ("trials", "0")
    return case


def tune_unreachable_storage(shared, tmp):
    case = _tune_case(shared, tmp, "--ranges", json.dumps(_RANGES),
                      storage="postgresql://nobody:secret@127.0.0.1:9/none")
    case.parts = ("storage", "127.0.0.1")
    case.absent = ("secret",)  # the password is masked in the message
    return case


def tune_storage_folder_missing(shared, tmp):
    case = _tune_case(shared, tmp, "--ranges", json.dumps(_RANGES),
                      storage=f"sqlite:///{tmp}/missing/studies.db")
    case.parts = ("storage", "does not exist")
    return case


def tune_study_with_another_space(shared, tmp):
    """The same study name again with other ranges: refused, the first study is kept."""
    db = tmp / "studies.db"
    argv = ["--workspace", str(shared.ws.root), "-q", "tune", "--data", str(shared.real16),
            "--model", "vae", "--study", "s1", "--storage", f"sqlite:///{db}", "--trials", "1",
            "--device", "cpu", "--ranges", json.dumps(_RANGES)]
    assert main(argv) == 0
    case = _tune_case(shared, tmp, "--ranges", json.dumps({**_RANGES, "latent_dim": [3, 9]}))
    case.out = None
    case.watch = [db]
    case.parts = ("s1", "search space")
    return case


# --------------------------------------------------------------------------- generate


def _gen_case(shared: Shared, tmp: Path, run: Path, *extra: str, overwrite: bool = True) -> Case:
    out = tmp / "gen.h5"
    return Case(["--workspace", str(shared.ws.root), "--json", "generate", "--run", str(run),
                 "--out", str(out), *extra], parts=(), out=out, overwrite=overwrite)


def gen_identical_samples(shared, tmp):
    case = _gen_case(shared, tmp, shared.vae, "--interpolate", "--from", "3", "--to", "3")
    case.parts = ("rows 3 and 3", "pick two different")
    return case


def gen_t_above_one(shared, tmp):
    case = _gen_case(shared, tmp, shared.vae, "--interpolate", "--from", "0", "--to", "5",
                     "--t", "1.5")
    case.parts = ("t = 1.5", "[0, 1]")
    return case


def gen_t_negative(shared, tmp):
    case = _gen_case(shared, tmp, shared.vae, "--interpolate", "--from", "0", "--to", "5",
                     "--t=-0.2")
    case.parts = ("t = -0.2", "[0, 1]")
    return case


def gen_unknown_class_name(shared, tmp):
    case = _gen_case(shared, tmp, shared.cvae, "--per-class", "5", "--classes", "dragon")
    case.parts = ("dragon", "not a class", "class_0")
    return case


def gen_unknown_class_index(shared, tmp):
    case = _gen_case(shared, tmp, shared.cvae, "--per-class", "5", "--classes", "7")
    case.parts = ("7", "not a class")
    return case


def gen_checkpoint_other_width(shared, tmp):
    case = _gen_case(shared, tmp, shared.vae, "--interpolate", "--data", str(shared.other8))
    case.parts = ("8 features", "16")
    return case


def gen_run_folder_missing(shared, tmp):
    case = _gen_case(shared, tmp, tmp / "runs" / "vae-gone", "--prior", "5")
    case.parts = ("vae-gone", "no such run folder", "train")
    return case


def gen_run_data_gone(shared, tmp):
    """A run whose training data file was deleted: interpolation needs it, says so."""
    ws = get_workspace(tmp / "ws2")
    save_dataset(make_blobs(n_per_class=10, n_features=16), "temp", ws)
    run = _train(ws, "temp", "vae")
    ws.dataset_path("temp").unlink()
    case = Case(["--workspace", str(ws.root), "--json", "generate", "--run", str(run), "--out",
                 str(tmp / "gen.h5"), "--interpolate"], parts=("temp", "--data"),
                out=tmp / "gen.h5", overwrite=True, watch=[ws.root])
    return case


def gen_run_weights_gone(shared, tmp):
    import shutil

    run = tmp / "vae-copy"
    shutil.copytree(shared.vae, run)
    for weights in run.glob("*.pt"):
        weights.unlink()
    case = _gen_case(shared, tmp, run, "--prior", "5")
    case.parts = ("vae-copy", "weights", "missing")
    case.watch = [run]
    return case


def gen_row_out_of_range(shared, tmp):
    case = _gen_case(shared, tmp, shared.vae, "--interpolate", "--from", "0", "--to", "5000")
    case.parts = ("5000", "not a row", "90")
    return case


# --------------------------------------------------------------------------- damaged workspace items


def _damaged_run(shared: Shared, tmp: Path, name: str, damage: Callable[[Path], None]) -> Path:
    """A copy of the good VAE run inside the shared workspace, damaged by ``damage``."""
    import shutil

    run = shared.ws.runs_dir / name
    if not run.exists():
        shutil.copytree(shared.vae, run)
        damage(run)
    return run


def _cut_config(run: Path) -> None:
    text = (run / "config.json").read_bytes()
    (run / "config.json").write_bytes(text[: len(text) // 2])


def _other_weights(run: Path) -> None:
    import torch

    state = torch.load(run / "model.pt", weights_only=True)
    torch.save({k: torch.zeros(*[d + 1 for d in v.shape]) if v.ndim else v
                for k, v in state.items()}, run / "model.pt")


def _newer_version(run: Path) -> None:
    meta = json.loads((run / "config.json").read_text())
    meta["synth_core_version"] = "99.0.0"
    (run / "config.json").write_text(json.dumps(meta))


def _damaged_gen(shared: Shared, tmp: Path, name: str, damage, parts: tuple[str, ...]) -> Case:
    run = _damaged_run(shared, tmp, name, damage)
    case = _gen_case(shared, tmp, run, "--prior", "5")
    case.parts = ("damaged run", name, *parts, "check --remove")
    return case


def damaged_run_config_cut_in_half(shared, tmp):
    return _damaged_gen(shared, tmp, "vae-cut", _cut_config, ("config.json", "not valid JSON"))


def damaged_run_weights_not_a_checkpoint(shared, tmp):
    return _damaged_gen(shared, tmp, "vae-notpt",
                        lambda run: (run / "model.pt").write_bytes(b"not a checkpoint"),
                        ("model.pt", "not a PyTorch checkpoint"))


def damaged_run_weights_of_another_shape(shared, tmp):
    return _damaged_gen(shared, tmp, "vae-shape", _other_weights,
                        ("model.pt", "another shape", "16 features"))


def damaged_run_half_written(shared, tmp):
    return _damaged_gen(shared, tmp, "vae-half", lambda run: (run / "config.json").unlink(),
                        ("config.json", "half-written"))


def damaged_run_from_newer_version(shared, tmp):
    return _damaged_gen(shared, tmp, "vae-newer", _newer_version, ("99.0.0", "newer"))


def _damaged_train(shared: Shared, tmp: Path, name: str, write: Callable[[Path], None],
                   parts: tuple[str, ...]) -> Case:
    path = shared.ws.datasets_dir / f"{name}.h5"
    if not path.exists():
        write(path)
    case = _train_case(shared, tmp, data=name)
    case.parts = ("damaged dataset", f"{name}.h5", *parts)
    return case


def damaged_dataset_not_hdf5(shared, tmp):
    return _damaged_train(shared, tmp, "junk", lambda p: p.write_bytes(b"plain text, not HDF5"),
                          ("not a readable HDF5",))


def _labels_of_another_length(path: Path) -> None:
    with h5py.File(path, "w") as handle:
        handle["features"] = np.zeros((6, 4), dtype=np.float32)
        handle["labels"] = np.zeros(4, dtype=np.int64)


def damaged_dataset_wrong_layout(shared, tmp):
    return _damaged_train(shared, tmp, "short-labels", _labels_of_another_length,
                          ("/labels", "6 rows", "wrong layout"))


def _dataset_from_newer_version(path: Path) -> None:
    write_features(path, make_blobs(n_per_class=5, n_features=4))
    with h5py.File(path, "a") as handle:
        handle.attrs["synth_core_version"] = "99.1.0"


def damaged_dataset_from_newer_version(shared, tmp):
    return _damaged_train(shared, tmp, "from-future", _dataset_from_newer_version,
                          ("99.1.0", "newer", "update synth_core"))


def check_remove_refuses_a_good_run(shared, tmp):
    return Case(["--workspace", str(shared.ws.root), "--json", "check", "--remove",
                 str(shared.vae)], parts=(shared.vae.name, "not a damaged", "nothing was removed"))


# --------------------------------------------------------------------------- tsne


def tsne_generated_other_width(shared, tmp):
    out = tmp / "map.html"
    return Case(["--workspace", str(shared.ws.root), "--json", "tsne", "--data",
                 str(shared.real16), "--synthetic", str(shared.other8), "--method", "pca",
                 "--out", str(out)], parts=("8 features", "16"), out=out, overwrite=True)


def tsne_unknown_format(shared, tmp):
    out = tmp / "map.gif"
    return Case(["--workspace", str(shared.ws.root), "--json", "tsne", "--data",
                 str(shared.real16), "--method", "pca", "--out", str(out)],
                parts=("map.gif", "unknown format", ".html"), out=out)


# --------------------------------------------------------------------------- evaluate


def _eval_case(shared: Shared, tmp: Path, *extra: str) -> Case:
    out = tmp / "report.json"
    return Case(["--workspace", str(shared.ws.root), "--json", "evaluate", "--real-train",
                 str(shared.real16), "--classifiers", "logreg", "--no-augmentation",
                 "--out", str(out), *extra], parts=(), out=out, overwrite=True)


def eval_widths_differ(shared, tmp):
    case = _eval_case(shared, tmp, "--synthetic", str(shared.other8))
    case.parts = ("other8", "8", "16")
    return case


def eval_labels_do_not_match(shared, tmp):
    case = _eval_case(shared, tmp, "--synthetic", str(shared.relabeled))
    case.parts = ("relabeled", "class")
    return case


def eval_too_few_rows_for_k(shared, tmp):
    case = _eval_case(shared, tmp, "--synthetic", str(shared.tiny), "--k", "10")
    case.parts = ("tiny", "rows", "k")
    return case


def eval_missing_synthetic(shared, tmp):
    case = _eval_case(shared, tmp, "--synthetic", str(tmp / "nothing.h5"))
    case.parts = ("nothing.h5",)
    return case


CASES: dict[str, Builder] = {f.__name__: f for f in (
    corrupt_audio, empty_audio, silent_audio, non_audio_file, clip_shorter_than_a_frame,
    unknown_extensions_only, missing_input_folder, zip_slip, zip_absolute_path, zip_bomb,
    zip_not_a_zip,
    csv_missing_value, csv_non_numeric, csv_nan_and_inf, csv_empty, csv_header_only,
    csv_label_column_missing, npz_with_nan, npz_without_x, hdf5_other_layout, hdf5_not_hdf5,
    import_unknown_extension, import_missing_file,
    latent_zero, latent_above_features, lr_zero, lr_negative, fewer_rows_than_a_batch,
    nan_in_training_data, cvae_one_class, train_missing_dataset, train_bad_hidden,
    tune_inverted_range, tune_empty_range, tune_zero_trials, tune_unreachable_storage,
    tune_storage_folder_missing, tune_study_with_another_space,
    gen_identical_samples, gen_t_above_one, gen_t_negative, gen_unknown_class_name,
    gen_unknown_class_index, gen_checkpoint_other_width,
    gen_run_folder_missing, gen_run_data_gone, gen_run_weights_gone, gen_row_out_of_range,
    damaged_run_config_cut_in_half, damaged_run_weights_not_a_checkpoint,
    damaged_run_weights_of_another_shape, damaged_run_half_written, damaged_run_from_newer_version,
    damaged_dataset_not_hdf5, damaged_dataset_wrong_layout, damaged_dataset_from_newer_version,
    check_remove_refuses_a_good_run,
    tsne_generated_other_width, tsne_unknown_format,
    eval_widths_differ, eval_labels_do_not_match, eval_too_few_rows_for_k,
    eval_missing_synthetic)}


@pytest.mark.parametrize("name", list(CASES))
def test_cli_bad_input_exits_2_with_clear_message_and_keeps_files(name, shared, tmp_path,
                                                                  capsys):
    case = CASES[name](shared, tmp_path)
    capsys.readouterr()  # drop what the builder printed (e.g. a first study)
    argv = list(case.argv)
    if case.overwrite:
        assert case.out is not None
        case.out.parent.mkdir(parents=True, exist_ok=True)
        case.out.write_bytes(SENTINEL)
        argv.append("--overwrite")
    roots = [shared.ws.root, *case.watch] + ([case.out] if case.overwrite else [])
    before = _snapshot(*roots)
    code, out, err = _run_main(capsys, argv)
    message = _assert_failure_contract(code, out, err, case.parts)
    assert not [a for a in case.absent if a in message], message
    after = _snapshot(*roots)
    changed = [p for p, digest in before.items() if after.get(p) != digest]
    assert not changed, f"files changed or removed by a failing command: {changed}"
    if case.out is not None:
        if case.overwrite:
            assert case.out.read_bytes() == SENTINEL
        else:
            assert not case.out.exists() or (case.out.is_dir() and not any(case.out.iterdir())), \
                f"{case.out} was created by a failing command"
    leftovers = [p for p in shared.ws.root.rglob("*.tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


# --------------------------------------------------------------------------- accepted inputs


def test_cli_extract_accepts_stereo_and_odd_rates_and_lists_bad_clips(shared, tmp_path, capsys):
    clips = tmp_path / "clips"
    _tone(clips / "a" / "stereo.wav", 1.0, 22050, 300, channels=2)
    _tone(clips / "a" / "odd.wav", 1.0, 11025, 350)
    _tone(clips / "b" / "mono.wav", 1.0, 48000, 2000)
    (clips / "b" / "empty.wav").write_bytes(b"")
    sf.write(clips / "b" / "silent.wav", np.zeros(16000), 16000)
    (clips / "b" / "readme.txt").write_text("not audio")
    out = tmp_path / "tones.h5"
    code, stdout, err = _run_main(capsys, [
        "--workspace", str(shared.ws.root), "--json", "extract", "--input", str(clips),
        "--out", str(out), "--duration", "none", "--frames", "1"])
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["n_clips"] == 3
    skipped = {Path(s["file"]).name: s["reason"] for s in summary["skipped"]}
    assert set(skipped) >= {"empty.wav", "silent.wav"}
    assert "silent" in skipped["silent.wav"]
    assert all(reason.strip() for reason in skipped.values())


def test_cli_failing_import_keeps_existing_workspace_dataset(shared, tmp_path, capsys):
    """--out NAME already exists: refused without --overwrite, even with good input."""
    (tmp_path / "good.csv").write_text("f1,f2,label\n0.1,0.2,a\n0.3,0.4,b\n")
    target = shared.ws.dataset_path("blobs")
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    code, out, err = _run_main(capsys, ["--workspace", str(shared.ws.root), "--json", "import",
                                        "--input", str(tmp_path / "good.csv"), "--out", "blobs"])
    message = _assert_failure_contract(code, out, err, ("blobs.h5", "already exists",
                                                        "--overwrite"))
    assert "blobs" in message
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("json_flag, argv, parts", [
    (False, ["import", "--input", "{tmp}/bad.csv", "--out", "bad"], ("bad.csv", "non-numeric")),
    (True, ["train", "--data", "builtin:nope", "--out", "{tmp}/run"],
     ("builtin:nope", "builtin:digits")),
])
def test_cli_bad_input_as_subprocess(json_flag, argv, parts, tmp_path):
    """The same contract through `python -m synth_core`: exit 2, `error:` on stderr, and on
    stdout nothing, or with --json only the one JSON line."""
    (tmp_path / "bad.csv").write_text("f1,label\n1,a\nx,b\n")
    ws = tmp_path / "workspace"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "synth_core", "--workspace", str(ws),
                           *(["--json"] if json_flag else []), *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in proc.stderr
    for part in parts:
        assert part.lower() in last.lower(), last
    if json_flag:
        assert len(proc.stdout.strip().splitlines()) == 1
        assert json.loads(proc.stdout) == {"ok": False, "error": last[len("error: "):]}
    else:
        assert proc.stdout == ""
    assert not list((ws / "datasets").glob("*.h5"))
    assert not (tmp_path / "run").exists()


def test_cli_unknown_flag_is_a_usage_error_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "builtin:digits", "--latent", "abc"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_lists_damaged_items_and_removes_only_on_request(shared, tmp_path, capsys):
    import shutil

    ws = get_workspace(tmp_path / "ws")
    good = ws.runs_dir / "vae-good"
    shutil.copytree(shared.vae, good)
    bad = ws.runs_dir / "vae-cut"
    shutil.copytree(shared.vae, bad)
    _cut_config(bad)
    (ws.runs_dir / "vae-training").mkdir()  # reserved by a running job: not damaged
    save_dataset(make_blobs(n_per_class=5, n_features=4), "fine", ws)
    (ws.datasets_dir / "junk.h5").write_bytes(b"not HDF5")
    (ws.jobs_dir / "job-cut").mkdir()
    (ws.jobs_dir / "job-cut" / "status.json").write_text('{"state": "runn')  # cut mid-write
    before = _snapshot(ws.root)

    code, out, err = _run_main(capsys, ["--workspace", str(ws.root), "--json", "datasets"])
    listed = json.loads(out)
    assert code == 0 and "fine" in listed["datasets"] and "junk" not in listed["datasets"]
    assert len(listed["damaged"]) == 1 and "junk.h5" in listed["damaged"][0]
    code, out, err = _run_main(capsys, ["--workspace", str(ws.root), "check", "--json"])
    report = json.loads(out)
    assert code == 0 and report["n_damaged"] == 3
    assert any("damaged job" in m and "job-cut" in m for m in report["damaged"])
    assert any("vae-cut" in m and "not valid JSON" in m for m in report["damaged"])
    assert not any("vae-good" in m or "vae-training" in m for m in report["damaged"])
    assert _snapshot(ws.root) == before  # listing never changes anything

    code, out, err = _run_main(capsys, ["--workspace", str(ws.root), "--json", "check",
                                        "--remove", str(bad)])
    assert code == 0 and json.loads(out)["removed"] == str(bad)
    assert not bad.exists() and good.is_dir() and (ws.datasets_dir / "junk.h5").exists()
    # The good run still generates after its damaged neighbour was listed and removed.
    code, out, err = _run_main(capsys, ["--workspace", str(ws.root), "--json", "generate",
                                        "--run", str(good), "--out", str(tmp_path / "g.h5"),
                                        "--prior", "4"])
    assert code == 0, err


@pytest.mark.parametrize("argv", [
    ["-q", "--json", "datasets"],
    ["datasets", "-q", "--json"],
    ["datasets", "--quiet", "--json", "--workspace", "{ws}"],
])
def test_cli_global_flags_before_or_after_the_verb(argv, tmp_path, capsys):
    ws = tmp_path / "ws"
    argv = [a.replace("{ws}", str(ws)) for a in argv]
    if "--workspace" not in argv:
        argv = ["--workspace", str(ws), *argv]
    code, out, err = _run_main(capsys, argv)
    assert code == 0 and json.loads(out)["ok"] is True and err == ""
    assert (ws / "datasets").is_dir()
