"""Real public tables the benchmarks fetch from a package registry: Golub's leukemia.

Issue #12's augmentation goal is the tabular study's leukemia figure, and that table
cannot be downloaded here (OpenML, the Broad Institute). Its training set, as
preprocessed by Dudoit, Fridlyand and Speed (2002), ships inside Bioconductor's
``multtest`` package as ``data/golub.RData``, and Debian packages that as
``r-bioc-multtest``: ``apt-get download`` fetches it from Debian's registry, and
``dpkg-deb -x`` unpacks the one file, without installing R.

``golub``: Golub et al. (1999), acute lymphoblastic (ALL) against acute myeloid (AML)
leukemia; 38 samples (27 ALL, 11 AML) x 3,051 genes (Affymetrix Hu6800 probes kept by
Dudoit's filter: floor 100, ceiling 16,000, max/min > 5 and max - min > 500; log10;
each array then standardised). The study's leukemia is the full 72 x 7,129 table (the
34 test samples added, no filter), so the figures are close kin, not the same table.

Reading ``.RData`` needs ``pyreadr`` (``pip install pyreadr``), an optional extra of the
benchmarks like SDV, not a synth_core dependency. The file is looked for, in order:

1. ``$GOLUB_RDATA`` (a path to ``golub.RData``);
2. an installed R library (``apt-get install r-bioc-multtest``);
3. this module's cache, ``~/.cache/synth_core-benchmarks/golub.RData``;
4. ``apt-get download r-bioc-multtest`` into a temporary folder, then the cache.

Nothing here is used by the tests' data: they check the conversion and the search
order with files they make.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from synth_core.features import FeatureSet

DEBIAN_PACKAGE = "r-bioc-multtest"
RDATA_IN_PACKAGE = Path("usr/lib/R/site-library/multtest/data/golub.RData")
INSTALLED = Path("/") / RDATA_IN_PACKAGE
CACHE = Path.home() / ".cache" / "synth_core-benchmarks" / "golub.RData"
ENV = "GOLUB_RDATA"
HOW_TO_GET = (f"`apt-get download {DEBIAN_PACKAGE}` and `dpkg-deb -x` it (or `apt-get install "
              f"{DEBIAN_PACKAGE}`), then point {ENV} at the golub.RData inside")


def golub_feature_set(frames: Mapping[str, object], source: str = "") -> FeatureSet:
    """The FeatureSet of multtest's ``golub`` objects (genes x samples, as R keeps them).

    ``frames``: what ``pyreadr.read_r`` returns for golub.RData, ``golub`` (genes x
    samples), ``golub.cl`` (0 = ALL, 1 = AML per sample) and ``golub.gnames`` (index,
    description, probe id per gene). Rows become samples; the probe ids name the columns.
    """
    expression = np.asarray(frames["golub"], dtype=np.float64)
    classes = np.asarray(frames["golub.cl"], dtype=np.float64).reshape(-1)
    if expression.ndim != 2 or expression.shape[1] != classes.size:
        raise ValueError(f"golub.RData{f' ({source})' if source else ''}: expected a genes x "
                         f"samples matrix with one class per sample; got {expression.shape} "
                         f"and {classes.size} classes")
    if not np.isin(classes, (0.0, 1.0)).all():
        raise ValueError(f"golub.cl holds {sorted(set(classes.tolist()))}; expected 0 (ALL) "
                         "and 1 (AML)")
    names = frames.get("golub.gnames")
    probes = ([str(p) for p in np.asarray(names)[:, -1]] if names is not None
              else [f"gene{i}" for i in range(expression.shape[0])])
    return FeatureSet(
        features=expression.T, labels=classes.astype(np.int64), class_names=["ALL", "AML"],
        ids=[f"golub-{i:02d}" for i in range(expression.shape[1])],
        attrs={"dataset": "golub (leukemia, Golub 1999; multtest's 38 x 3,051)",
               "modality": "tabular", "feature_names": probes, "source": source})


def _fetch_from_debian(cache: Path, run: Callable = subprocess.run) -> Path:
    """``apt-get download`` the package into a temporary folder, unpack golub.RData into
    ``cache``; the path, or a SystemExit that says what failed and how to do it by hand."""
    with tempfile.TemporaryDirectory(prefix="golub-") as tmp:
        try:
            run(["apt-get", "download", DEBIAN_PACKAGE], cwd=tmp, check=True,
                capture_output=True, text=True, timeout=300)
            debs = sorted(Path(tmp).glob(f"{DEBIAN_PACKAGE}_*.deb"))
            if not debs:
                raise FileNotFoundError(f"no {DEBIAN_PACKAGE}_*.deb after apt-get download")
            run(["dpkg-deb", "-x", str(debs[-1]), str(Path(tmp) / "x")], check=True,
                capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", None) or exc
            raise SystemExit(f"golub: could not fetch {DEBIAN_PACKAGE} from Debian's registry "
                             f"({str(detail).strip()[:200]}); {HOW_TO_GET}") from exc
        unpacked = Path(tmp) / "x" / RDATA_IN_PACKAGE
        if not unpacked.is_file():
            raise SystemExit(f"golub: {DEBIAN_PACKAGE} holds no {RDATA_IN_PACKAGE}; {HOW_TO_GET}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".part")
        shutil.copyfile(unpacked, partial)
        partial.replace(cache)  # whole or not at all
    return cache


def find_golub(environ: Mapping[str, str] | None = None, installed: Path = INSTALLED,
               cache: Path = CACHE, fetch: Callable[[Path], Path] | None = _fetch_from_debian
               ) -> Path:
    """golub.RData's path, in the order of the module docstring (fetching when ``fetch``)."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV):
        named = Path(environ[ENV]).expanduser()
        if not named.is_file():
            raise SystemExit(f"{ENV}={named}: no such file; {HOW_TO_GET}, or unset {ENV}")
        return named
    for candidate in (installed, cache):
        if candidate.is_file():
            return candidate
    if fetch is None:
        raise SystemExit(f"golub: golub.RData is neither at {installed} nor at {cache}; "
                         f"{HOW_TO_GET}")
    return fetch(cache)


def read_rdata(path: Path) -> dict:
    """The objects of an .RData file, read with pyreadr (optional: says how to get it)."""
    try:
        import pyreadr
    except ImportError as exc:
        raise SystemExit(f"golub: reading {path.name} needs pyreadr, which is not installed "
                         f"({exc}); `pip install pyreadr` (an optional extra of the "
                         "benchmarks, not a synth_core dependency)") from exc
    return dict(pyreadr.read_r(str(path)))


def golub() -> FeatureSet:
    """Golub's leukemia training set (38 x 3,051), found or fetched (module docstring)."""
    path = find_golub()
    return golub_feature_set(read_rdata(path), source=str(path))
