"""The classroom box in the sidebar (SYNTH_CLASSROOM=1): the code, switching, bad codes.

The browser side (the code kept in the URL across a refresh, typing a code on
another tab) is tests/browser/test_classroom.py.
"""

from __future__ import annotations

from tests.conftest import app_test

HOME = "app.py"


def _box() -> None:
    """The sidebar box alone, as app.py's setup() draws it before every page.

    (AppTest reruns a multipage app's page without app.py after its first run, so
    a second run of app.py would not draw the box; the browser test covers that.)
    """
    from pages.common.classroom_ui import classroom_sidebar

    classroom_sidebar()


def _home(monkeypatch, code: str | None = None, *, box_only: bool = True):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SYNTH_CLASSROOM", "1")
    at = AppTest.from_function(_box, default_timeout=60) if box_only else app_test(HOME)
    if code:
        at.query_params["who"] = code
    at.run()
    assert not at.exception, at.exception
    return at


def _sidebar_text(at) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown)


def test_code_from_the_url_is_shown_as_text_not_a_code_block(workspace, monkeypatch):
    at = _home(monkeypatch, "fox-42", box_only=False)
    assert at.session_state["owner_code"] == "fox-42"
    assert "Your code: **`fox-42`**" in _sidebar_text(at)
    # st.code would make every student's browser fetch Streamlit's 1.5 MB syntax
    # highlighter on its first page (benchmarks/classroom.py measured 4.4 -> 2.9 MB).
    assert len(at.sidebar.code) == 0
    assert (workspace.root / "users" / "fox-42" / "runs").is_dir()


def test_typing_another_code_moves_the_session_and_the_url(workspace, monkeypatch):
    at = _home(monkeypatch, "fox-42")
    at.sidebar.text_input(key="classroom-switch").set_value("Owl-7").run()
    assert not at.exception, at.exception
    assert at.session_state["owner_code"] == "owl-7"
    assert at.query_params["who"] in ("owl-7", ["owl-7"])
    assert "`owl-7`" in _sidebar_text(at)
    assert at.sidebar.text_input(key="classroom-switch").value == ""  # emptied for the next one
    assert not at.sidebar.warning


def test_a_bad_code_is_refused_with_the_rule_and_the_session_keeps_its_own(workspace, monkeypatch):
    at = _home(monkeypatch, "fox-42")
    at.sidebar.text_input(key="classroom-switch").set_value("../teacher").run()
    assert not at.exception, at.exception
    assert at.session_state["owner_code"] == "fox-42"
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "'../teacher' is not valid" in warning and "letters, digits or dashes" in warning
    assert not (workspace.root / "users" / "teacher").exists()
    at.run()  # the note is shown once
    assert not at.sidebar.warning


def test_a_bad_code_in_the_url_gets_a_new_code_and_says_why(workspace, monkeypatch):
    at = _home(monkeypatch, "x")
    code = at.session_state["owner_code"]
    assert code != "x" and at.query_params["who"] in (code, [code])
    assert any("'x' is not valid" in w.value for w in at.sidebar.warning)


def test_one_user_mode_has_no_classroom_box(workspace, monkeypatch):
    monkeypatch.delenv("SYNTH_CLASSROOM", raising=False)
    at = app_test(HOME).run()
    assert not at.exception, at.exception
    assert "Classroom" not in _sidebar_text(at)
    assert "who" not in at.query_params
    assert not (workspace.root / "users").exists()
