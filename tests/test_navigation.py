"""The page table behind st.navigation (pages/common/navigation.py)."""

from __future__ import annotations

import re

from pages.common.navigation import PAGES, SECTIONS
from tests.conftest import ROOT


def test_navigation_lists_every_page_file_once():
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py")
             if p.name != "__init__.py"}
    assert sorted(spec.path for spec in PAGES) == sorted(files)


def test_navigation_keeps_the_old_urls_and_sections():
    # pages/N_Name.py was served at /Name by the legacy pages/ folder: bookmarks keep working.
    for spec in PAGES:
        if spec.url_path:
            assert spec.url_path == re.sub(r"^\d+_", "", spec.path.rsplit("/", 1)[1][:-3])
    assert [s for s in SECTIONS] == ["Start", "Data", "Model", "Results"]
    assert [spec.title for spec in SECTIONS["Start"]] == ["Home"]
    assert sum(1 for spec in PAGES if not spec.url_path) == 1  # one default page at "/"


def test_help_does_not_import_heavy_libraries():
    # `python -m synth_core --help` and a verb's --help stay fast: no torch/sklearn/optuna.
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from synth_core.cli import build_parser\n"
            "for argv in (['--help'], ['train', '--help'], ['tune', '--help'], ['generate', '--help']):\n"
            "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "        build_parser().parse_args(argv)\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'optuna', 'openTSNE') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
