"""Journeys on /compare: two registered versions side by side, then promotions through the gate.

1. Compare both versions side by side → promote the better one → the champion alias moves
   (in the page and in the registry).
2. Promote twice (the weak model first, then the clearly better one) and after each promotion
   change every widget on every tab: a promotion relabels the version pickers ("v1" → "v1 (champion)"),
   which crashed the page with a TypeError on the first interaction (issue 13, item 8).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.tracking.models import model_versions
from tests.compare_seed import build_seeded_home
from tests.conftest import make_settings
from tests.e2e.conftest import LONG, assert_no_error, choose, shot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.e2e


def test_compare_two_versions_and_promote_the_better(tmp_path: Path, page, _template_store: Path) -> None:  # noqa: ANN001
    from core.tracking import Tracker

    home = tmp_path / "workspace"
    _, _, strong = build_seeded_home(home, _template_store, "irisproj")
    server = start_server(home, {"WORKBENCH_PROJECT": "irisproj"})
    try:
        page.goto(f"{server.url}/compare")
        page.get_by_text("Only params that differ").first.wait_for()
        wait_idle(page)
        assert_no_error(page)
        shot(page, "compare-01-runs")

        page.get_by_role("tab", name="Side by side").click()
        page.get_by_text("Permutation importance").first.click()  # off: faster on a busy machine
        wait_idle(page)  # the toggle's rerun is over: the button below is the one of this run
        page.get_by_role("button", name="Evaluate side by side").click()
        page.get_by_text("★").first.wait_for(timeout=LONG)
        wait_idle(page)
        assert_no_error(page)
        assert page.get_by_text("0.9778 ★").count() >= 1  # v2 (random forest) is the better model
        shot(page, "compare-02-side-by-side")

        page.get_by_role("tab", name="Champion / challenger").click()
        page.get_by_text("none yet").first.wait_for()
        page.get_by_role("button", name="Run the gate").click()
        page.get_by_text("Gate passed.").first.wait_for(timeout=LONG)
        wait_idle(page)
        assert_no_error(page)
        page.get_by_text("no champion yet", exact=False).first.wait_for()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, f"horizontal overflow: {width}px"
        shot(page, "compare-03-promoted")
        aliases = {a: mv.version for mv in model_versions(Tracker.connect(make_settings(home)), strong.name)
                   for a in mv.aliases}  # one registered model per prediction job: irisproj-species
        assert aliases == {"champion": 2}
    finally:
        stop_server(server)


TABS = ("Runs", "Side by side", "Champion / challenger", "Shadow", "A/B test")
# Every widget kind a person changes on Compare (buttons start jobs and the sidebar's project picker
# leaves the project: both are out of this sweep).
WIDGETS = ", ".join(f'[data-testid="{k}"]' for k in ("stSelectbox", "stMultiSelect", "stCheckbox", "stNumberInput",
                                                       "stRadio"))


def _label(widget) -> str:  # noqa: ANN001
    label = widget.locator('[data-testid="stWidgetLabel"]')
    return label.first.inner_text().strip() if label.count() else "?"


def _open(page, widget, tries: int = 6):  # noqa: ANN001, ANN202
    """How many options a selectbox / multiselect dropdown offers (0 if it shows none); the list is closed again.

    A click right after another dropdown closed is sometimes taken as a blur, and a rerun closes an open
    list: try again (each try waits for the options to be shown, it does not sleep).
    """
    options = page.get_by_role("option")
    target = widget.locator("input").first if widget.locator("input").count() else widget  # not a tag's ✕
    for _ in range(tries):
        wait_idle(page)
        target.click()
        try:
            options.first.wait_for(timeout=30_000)
            n = options.count()
            page.keyboard.press("Escape")
            return n
        except Exception:  # noqa: BLE001 — not open (yet): close whatever is half open, click again
            page.keyboard.press("Escape")
    return 0


def _change(page, widget) -> str:  # noqa: ANN001
    """Change one widget the way a person does; returns what was changed (kind: label)."""
    kind, label = widget.get_attribute("data-testid"), _label(widget)
    if kind == "stSelectbox":
        # choose() reopens the list until an option shows (up to 180 s): a rerun may close it under load;
        # another option than the current one when there is one, else the only one
        n = _open(page, widget)
        other = page.locator('[role="option"][aria-selected="false"]')
        choose(page, widget, other if n > 1 else page.get_by_role("option"))
    elif kind == "stMultiSelect":
        chosen = widget.get_by_role("button", name=re.compile("^Remove "))
        if _open(page, widget, tries=2 if chosen.count() else 4):
            choose(page, widget, page.get_by_role("option"))
            page.keyboard.press("Escape")
        else:  # every option is chosen already (the dropdown is empty): remove one instead
            chosen.first.click()
    elif kind == "stCheckbox":
        widget.locator("label").first.click()
    elif kind == "stNumberInput":
        widget.get_by_test_id("stNumberInputStepUp").click()
    elif kind == "stRadio":
        widget.locator("label:not(:has(input:checked))").first.click()
    wait_idle(page)
    return f"{kind}: {label}"


def _change_every_widget(page, when: str) -> list[str]:  # noqa: ANN001
    """On every tab, change each visible widget in turn; no exception may ever appear."""
    changed: list[str] = []
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        assert_no_error(page)
        widgets = page.locator(f'[data-testid="stMain"] :is({WIDGETS}) >> visible=true')
        i = 0
        while i < widgets.count():
            widget = widgets.nth(i)
            i += 1
            if widget.locator("input[disabled], [aria-disabled='true']").count():
                continue  # e.g. the gate metric once the first promotion fixed it
            what = _change(page, widget)
            assert page.locator('[data-testid="stException"]').count() == 0, f"{when}, {tab} tab: {what} crashed"
            assert_no_error(page)
            changed.append(f"{tab} · {what}")
    print(f"{when}: changed {len(changed)} widgets —", "; ".join(changed))  # shown with pytest -s
    return changed


def _run_gate(page, version: int) -> None:  # noqa: ANN001
    """Choose ``version`` as the challenger (and accuracy as the metric while it can be chosen), run the gate,
    and wait until it passed: the champion shown is ``version``."""
    page.get_by_role("tab", name="Champion / challenger").click()
    wait_idle(page)
    form = page.locator('[data-testid="stForm"]')
    for label, option in (("Challenger to promote", re.compile(rf"^(?:\S+ )?v{version}\b")), ("Gate metric", "accuracy")):
        box = form.locator('[data-testid="stSelectbox"]').filter(has_text=label)
        if box.locator("input[disabled]").count():  # the model's promotion metric, once fixed, is the gate's
            continue
        choose(page, box, option)
    page.get_by_role("button", name="Run the gate").click()
    wait_idle(page)
    champion = page.locator('[data-testid="stMetric"]').filter(has_text="Champion").first
    champion.locator('[data-testid="stMetricValue"]').filter(has_text=f"v{version}").wait_for(timeout=LONG)
    wait_idle(page)
    assert_no_error(page)
    page.get_by_text("Gate passed.").first.wait_for()


def test_promote_twice_then_change_every_widget(tmp_path: Path, page, _template_store: Path) -> None:  # noqa: ANN001
    home = tmp_path / "workspace"
    build_seeded_home(home, _template_store, "irisproj")  # v1: a heavily regularised linear model; v2: a forest
    server = start_server(home, {"WORKBENCH_PROJECT": "irisproj"})
    try:
        page.goto(f"{server.url}/compare")
        page.get_by_text("Only params that differ").first.wait_for()
        wait_idle(page)
        assert_no_error(page)

        _run_gate(page, 1)  # no champion yet: the first gate passes
        shot(page, "compare-journey-01-first-champion")
        first = _change_every_widget(page, "after the first promotion")

        _run_gate(page, 2)  # the forest beats the near-constant linear model by far: margin and test pass
        shot(page, "compare-journey-02-second-champion")
        second = _change_every_widget(page, "after the second promotion")

        for changed in (first, second):
            kinds = {c.split(" · ")[1].split(":")[0] for c in changed}
            assert {"stSelectbox", "stMultiSelect", "stCheckbox", "stNumberInput", "stRadio"} <= kinds, changed
            assert any(c.startswith("Side by side · stMultiSelect") for c in changed), changed
            assert any(c.startswith("Shadow · stMultiSelect") for c in changed), changed
        assert len(second) >= 15, second
    except Exception:
        shot(page, "FAILED-compare-journey-before-stop")  # the fixture's shot comes after the server stopped
        raise
    finally:
        stop_server(server)
