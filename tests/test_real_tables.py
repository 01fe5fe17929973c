"""benchmarks/real_tables.py: Golub's leukemia table, found or fetched from Debian's registry.

No test here needs the network, R, pyreadr or the real file: the conversion gets frames
shaped as pyreadr returns them, and the search and the fetch get files the tests make.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.bench_scripts import load_benchmark

real_tables = load_benchmark("real_tables")


def _frames(genes: int = 5, samples: int = 4):
    """multtest's objects as R keeps them: genes x samples, a class per sample, gene names."""
    expression = np.arange(genes * samples, dtype=float).reshape(genes, samples)
    classes = np.array([[0.0], [1.0], [0.0], [1.0]])[:samples]
    names = np.array([[str(i), f"gene {i} (desc)", f"P{i}_at"] for i in range(genes)])
    return {"golub": expression, "golub.cl": classes, "golub.gnames": names}


def test_samples_become_rows_with_their_class_and_probe_names():
    frames = _frames()
    data = real_tables.golub_feature_set(frames, source="x.RData")
    assert data.features.shape == (4, 5)
    np.testing.assert_array_equal(data.features, frames["golub"].T)
    assert data.labels.tolist() == [0, 1, 0, 1]
    assert data.class_names == ["ALL", "AML"]
    assert data.attrs["feature_names"] == [f"P{i}_at" for i in range(5)]
    assert data.attrs["source"] == "x.RData" and len(set(data.ids)) == 4


def test_a_table_that_is_not_multtests_is_refused_with_what_was_found():
    frames = _frames()
    frames["golub.cl"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"genes x samples.*\(5, 4\) and 3 classes"):
        real_tables.golub_feature_set(frames)
    frames = _frames()
    frames["golub.cl"] = np.array([[0.0], [2.0], [0.0], [1.0]])
    with pytest.raises(ValueError, match="golub.cl holds"):
        real_tables.golub_feature_set(frames)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RDX3")
    return path


def _no_fetch(cache):
    raise AssertionError("fetched although a file was there")


def test_search_order_env_then_installed_then_cache_then_fetch(tmp_path):
    named = _touch(tmp_path / "named.RData")
    installed, cache = tmp_path / "lib" / "golub.RData", tmp_path / "cache" / "golub.RData"
    find = real_tables.find_golub
    env = {real_tables.ENV: str(named)}
    assert find(env, installed, cache, _no_fetch) == named
    _touch(installed), _touch(cache)
    assert find({}, installed, cache, _no_fetch) == installed
    installed.unlink()
    assert find({}, installed, cache, _no_fetch) == cache
    cache.unlink()
    fetched = []
    assert find({}, installed, cache, lambda c: fetched.append(c) or c) == cache
    assert fetched == [cache]
    with pytest.raises(SystemExit, match=r"neither at .* nor at .*apt-get download r-bioc-multtest"):
        find({}, installed, cache, None)


def test_a_named_file_that_is_missing_names_the_variable(tmp_path):
    with pytest.raises(SystemExit, match=r"GOLUB_RDATA=.*nope.RData: no such file"):
        real_tables.find_golub({real_tables.ENV: str(tmp_path / "nope.RData")},
                               tmp_path / "a", tmp_path / "b", _no_fetch)


def test_fetch_unpacks_the_one_file_into_the_cache(tmp_path):
    calls = []

    def run(command, cwd=None, **kwargs):
        calls.append(command[:2])
        if command[:2] == ["apt-get", "download"]:
            (Path(cwd) / "r-bioc-multtest_2.54.0-1_amd64.deb").write_bytes(b"deb")
        elif command[:2] == ["dpkg-deb", "-x"]:
            _touch(Path(command[3]) / real_tables.RDATA_IN_PACKAGE).write_bytes(b"RDX3 data")
        return subprocess.CompletedProcess(command, 0, "", "")

    cache = tmp_path / "cache" / "golub.RData"
    assert real_tables._fetch_from_debian(cache, run=run) == cache
    assert cache.read_bytes() == b"RDX3 data"
    assert calls == [["apt-get", "download"], ["dpkg-deb", "-x"]]
    assert not list(cache.parent.glob("*.part"))


def test_a_failed_fetch_says_what_failed_and_leaves_no_cache(tmp_path):
    def run(command, cwd=None, **kwargs):
        raise subprocess.CalledProcessError(100, command, stderr="E: Unable to locate package")

    cache = tmp_path / "cache" / "golub.RData"
    with pytest.raises(SystemExit, match=r"could not fetch r-bioc-multtest.*Unable to locate"):
        real_tables._fetch_from_debian(cache, run=run)
    assert not cache.exists()


def test_missing_pyreadr_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyreadr", None)  # import pyreadr -> ImportError
    with pytest.raises(SystemExit, match=r"pip install pyreadr"):
        real_tables.read_rdata(tmp_path / "golub.RData")


def test_the_augmentation_protocol_names_the_real_table_among_its_datasets(monkeypatch):
    quality = load_benchmark("quality")
    assert "golub" in quality.REAL_AUGMENTATION_TABLES and "golub" in quality.STUDY
    monkeypatch.setattr(sys, "argv", ["quality.py", "--augmentation", "--datasets", "leukemia"])
    with pytest.raises(SystemExit, match=r"unknown \['leukemia'\].*golub"):
        quality.main()
