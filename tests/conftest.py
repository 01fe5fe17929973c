"""Shared fixtures: an empty workspace per test, tiny generated datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Tests use small data, where a second thread only contends: on a busy 2-core machine one
# tiny training loop took 120 s with torch's default 2 threads against ~1 s with one.
# Subprocesses (servers, job workers, CLI runs) inherit this; the job queue still gives its
# workers their own count, and a test may set other values.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=int(os.environ["OMP_NUM_THREADS"]))  # BLAS loaded before this file
if "torch" in sys.modules:
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from synth_core.features import FeatureSet  # noqa: E402
from synth_core.workspace import Workspace, get_workspace  # noqa: E402


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh workspace, also exported as SYNTH_WORKSPACE for pages and workers."""
    root = tmp_path / "workspace"
    monkeypatch.setenv("SYNTH_WORKSPACE", str(root))
    return get_workspace(root)


def make_blobs(n_per_class: int = 30, n_features: int = 16, n_classes: int = 3,
               seed: int = 0) -> FeatureSet:
    """Well-separated Gaussian blobs in [0, 1]: a tiny labelled dataset for tests."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.2, 0.8, size=(n_classes, n_features))
    features = np.concatenate([np.clip(c + 0.05 * rng.standard_normal((n_per_class, n_features)),
                                       0, 1) for c in centers])
    labels = np.repeat(np.arange(n_classes), n_per_class)
    return FeatureSet(features=features, labels=labels,
                      class_names=[f"class_{i}" for i in range(n_classes)],
                      ids=[f"row-{i}" for i in range(len(labels))],
                      attrs={"source": "tests.make_blobs", "modality": "tabular"})


@pytest.fixture
def blobs() -> FeatureSet:
    return make_blobs()


def missing_tool(message: str, require_env: str) -> None:
    """A system package a test needs is absent: skip with ``message``, or fail where
    ``require_env=1`` says it must be there (CI installs chromium, postgresql, nginx)."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{message}; {require_env}=1 requires it")
    pytest.skip(message)


def app_test(script: str, *, timeout: float = 120):
    """An AppTest for ``script`` relative to the repository root (app.py, pages/...)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / script), default_timeout=timeout)


TRAIN_FORM = "train-vae-defaults"  # widget keys of the Train form for model vae, the defaults


def fill_train_form(at, *, latent: int, hidden: str, epochs: int, batch: int,
                    form: str = TRAIN_FORM):
    """Set the Train page's main fields, press Train and rerun the AppTest."""
    at.number_input(key=f"{form}-latent").set_value(latent)
    at.text_input(key=f"{form}-hidden").set_value(hidden)
    at.number_input(key=f"{form}-epochs").set_value(epochs)
    at.number_input(key=f"{form}-batch").set_value(batch)
    at.button[0].click()
    return at.run()
