"""AppTest of the Data page: open penguins, normalise tokens, impute, save a version, draft survives."""

from __future__ import annotations

from core.data.drafts import load_draft
from core.tracking.datasets import dataset_versions, load_dataset
from tests.ui.conftest import app_test
from ui.data import TAB
from ui.identity import KEY as BROWSER_KEY

MINE = "a" * 32


def _button(at, label: str):  # noqa: ANN001, ANN202
    return next(b for b in at.button if b.label == label)


def _preview_and_apply(at, kind: str) -> str:  # noqa: ANN001
    """Preview a step with its default params, apply it; return the preview's summary sentence."""
    at.selectbox(key="data_kind_None").set_value(kind).run()
    _button(at, "Preview").click().run()
    assert not at.exception
    summary = at.success[-1].value
    _button(at, "Apply step").click().run()
    assert not at.exception
    return summary


def test_empty_page_says_what_to_do(settings) -> None:  # noqa: ANN001
    at = app_test("pages/data.py").run()
    assert not at.exception
    assert any("Pick a bundled data set" in i.value for i in at.info)


def _as_browser(at, browser: str):  # noqa: ANN001, ANN202
    """The session of a browser whose id cookie is ``browser`` (AppTest cannot send cookies)."""
    at.session_state[BROWSER_KEY] = browser
    return at


def test_clean_save_and_restore(settings, tracker) -> None:  # noqa: ANN001
    at = _as_browser(app_test("pages/data.py"), MINE).run()
    at.selectbox(key="data_bundled").set_value(next(o for o in at.selectbox(key="data_bundled").options
                                                    if "enguin" in o))
    at.button(key="data_open_bundled").click().run()
    assert not at.exception
    assert at.subheader[0].value == "penguins"
    # The profile flags the 'NA' tokens of the raw file.
    assert any("NA" in w.value for w in at.warning)

    at.session_state[TAB] = "Clean"  # only the open tab runs: the recipe editor is not drawn under Profile
    summary = _preview_and_apply(at.run(), "missing_tokens")
    assert "missing" in summary.lower() and "numeric" in summary.lower()
    assert _preview_and_apply(at, "impute").startswith("Filled ")
    recipe = at.session_state["data_recipe"]
    assert [s["kind"] for s in recipe["steps"]] == ["missing_tokens", "impute"]

    # The draft is on disk: a new session (refresh / restart) reopens it with the recipe.
    draft = load_draft(settings.home, "default", f"browser:{MINE}")
    assert draft is not None and [s["kind"] for s in draft.recipe["steps"]] == ["missing_tokens", "impute"]
    again = _as_browser(app_test("pages/data.py"), MINE).run()
    assert not again.exception
    assert [s["kind"] for s in again.session_state["data_recipe"]["steps"]] == ["missing_tokens", "impute"]
    # Another browser on the same project does not get this person's table.
    other = _as_browser(app_test("pages/data.py"), "b" * 32).run()
    assert not other.exception and not other.subheader
    assert any("Pick a bundled data set" in i.value for i in other.info)

    at.session_state[TAB] = "Versions"
    _button(at.run(), "Save version").click().run()
    assert not at.exception, at.exception
    assert any("Saved **penguins v1**" in s.value for s in at.success)
    versions = dataset_versions(tracker, "default")
    assert {(v.name, v.version) for v in versions} == {("penguins", 1), ("penguins-raw", 1)}
    cleaned = load_dataset(tracker, next(v for v in versions if v.name == "penguins").run_id)
    numeric = cleaned.select_dtypes("number")
    assert numeric.shape[1] >= 4 and not numeric.isna().any().any()


def test_a_signed_in_user_gets_their_draft_in_any_browser(settings) -> None:  # noqa: ANN001
    def signed_in(browser: str):  # noqa: ANN202
        at = _as_browser(app_test("pages/data.py"), browser)
        at.user = {"is_logged_in": True, "email": "ann@example.com"}
        return at

    at = signed_in("c" * 32).run()
    at.button(key="data_open_bundled").click().run()  # the first bundled set (penguins)
    assert not at.exception and at.subheader[0].value == "penguins"
    assert load_draft(settings.home, "default", "user:ann@example.com").name == "penguins"
    assert load_draft(settings.home, "default", f"browser:{'c' * 32}") is None
    elsewhere = signed_in("d" * 32).run()  # another browser, same person
    assert not elsewhere.exception and elsewhere.subheader[0].value == "penguins"


def test_an_auth_proxy_user_header_names_the_person(monkeypatch) -> None:  # noqa: ANN001
    """AppTest cannot send headers, so the proxy path is checked on the identity function itself."""
    from types import SimpleNamespace

    import ui.identity as ident

    def session(headers: dict[str, str]):  # noqa: ANN202
        fake = SimpleNamespace(user={}, session_state={}, html=lambda *a, **k: None,
                               context=SimpleNamespace(headers=headers, cookies={ident.COOKIE: "e" * 32}))
        monkeypatch.setattr(ident, "st", fake)
        return ident.identity()

    assert session({"X-Forwarded-Email": "ann@example.com"}) == ident.Identity("user:ann@example.com",
                                                                               "ann@example.com")
    assert session({"Remote-User": "bob"}).key == "user:bob"
    assert session({}).key == f"browser:{'e' * 32}"  # no proxy: the browser's cookie


def test_a_choice_under_a_closed_tab_is_kept(settings) -> None:  # noqa: ANN001
    at = _as_browser(app_test("pages/data.py"), "f" * 32).run()
    at.button(key="data_open_bundled").click().run()  # the first bundled set (penguins)
    at.radio(key="data_profile_which").set_value("raw table").run()
    at.selectbox(key="data_profile_col").set_value("island").run()
    at.session_state[TAB] = "Clean"
    at.run()
    assert not at.exception
    assert "data_profile_which" not in [r.key for r in at.radio]  # the Profile tab is not drawn while closed
    at.selectbox(key="data_kind_None").set_value("impute").run()
    at.session_state[TAB] = "Profile"
    at.run()
    assert at.radio(key="data_profile_which").value == "raw table"  # not back to its default
    assert at.selectbox(key="data_profile_col").value == "island"
    at.session_state[TAB] = "Clean"
    assert at.run().selectbox(key="data_kind_None").value == "impute"
