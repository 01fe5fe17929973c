"""CLI verb ``tsne``: writes HTML/JSON maps, one-line JSON summary, one-line errors."""

from __future__ import annotations

import json

from synth_core.cli import main
from synth_core.data.datasets import save_dataset
from synth_core.features import FeatureSet, write_features
from tests.conftest import make_blobs


def _files(workspace):
    real = make_blobs(n_per_class=20, n_features=32, n_classes=3)
    data = save_dataset(real, "blobs", workspace)
    generated = FeatureSet(features=real.features[::6] + 0.01, labels=real.labels[::6],
                           class_names=real.class_names, attrs={"mode": "interpolate"})
    synthetic = write_features(workspace.exports_dir / "gen.h5", generated)
    return data, synthetic


def _summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_tsne_cli_writes_json_map_with_stars(workspace, tmp_path, capsys):
    data, synthetic = _files(workspace)
    out = tmp_path / "map.json"
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", str(data),
                 "--synthetic", str(synthetic), "--out", str(out), "--iterations", "50", "--json"])
    assert code == 0
    summary = _summary(capsys)
    assert summary["ok"] and summary["n_real"] == 60 and summary["n_generated"] == 10
    figure = json.loads(out.read_text())
    symbols = {t["marker"]["symbol"] for t in figure["data"]}
    assert symbols == {"circle", "star"}
    # The map is cached: the same call again reuses the stored MapData.
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", str(data),
                 "--synthetic", str(synthetic), "--out", str(out), "--iterations", "50",
                 "--overwrite", "--json"])
    assert code == 0 and _summary(capsys)["map_data"] == summary["map_data"]


def test_tsne_cli_pca_html(workspace, tmp_path, capsys):
    data, _ = _files(workspace)
    out = tmp_path / "map.html"
    assert main(["--workspace", str(workspace.root), "-q", "tsne", "--data", "blobs",
                 "--out", str(out), "--method", "pca", "--json"]) == 0
    assert _summary(capsys)["n_generated"] == 0
    assert "<html" in out.read_text()[:200].lower()


def test_tsne_cli_errors_are_one_line(workspace, tmp_path, capsys):
    data, _ = _files(workspace)
    narrow = make_blobs(n_features=8)
    narrow.attrs["mode"] = "prior"
    bad = write_features(workspace.exports_dir / "narrow.h5", narrow)
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", str(data),
                 "--synthetic", str(bad), "--out", str(tmp_path / "m.html"), "--method", "pca"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "8 features" in err and "\n" not in err
    assert not (tmp_path / "m.html").exists()
    (tmp_path / "exists.html").write_text("keep me")
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", str(data),
                 "--out", str(tmp_path / "exists.html"), "--method", "pca"])
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert (tmp_path / "exists.html").read_text() == "keep me"
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", str(data),
                 "--out", str(tmp_path / "m.svg")])
    assert code == 2 and "unknown format" in capsys.readouterr().err


def test_tsne_cli_names_a_one_feature_dataset(workspace, tmp_path, capsys):
    """One feature per row cannot be mapped in 2-d: the message names the dataset given."""
    import numpy as np

    one = FeatureSet(features=np.linspace(0, 1, 30)[:, None].astype(np.float32),
                     labels=np.repeat([0, 1, 2], 10), class_names=["a", "b", "c"])
    save_dataset(one, "petal-width", workspace)
    code = main(["--workspace", str(workspace.root), "-q", "tsne", "--data", "petal-width",
                 "--out", str(tmp_path / "map.html")])
    err = capsys.readouterr().err
    assert code == 2 and "dataset petal-width has 1 feature per row" in err, err
    assert not (tmp_path / "map.html").exists()
