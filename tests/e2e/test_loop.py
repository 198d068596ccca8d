"""The whole loop in one Chromium journey, on a fresh workspace, through the pages as a person walks it.

Data (penguins → recipe: missing tokens, impute, stratified split → version, target ``species``)
→ Label (the 11 penguins without a ``sex``: a queue batch, then a lasso on the map; save the label set)
→ Tune (a 4-trial linear study on the label set, target ``species`` → registered model)
→ Compare (side by side, then the gate promotes it: ``champion``)
→ Deploy (ONNX export, parity, latency; recorded)
→ Monitor (an uploaded batch with heavier penguins drifts → retrain → a challenger that reaches the gate).

Each step checks what the page shows and what MLflow holds (runs per stage and their lineage:
the champion's chain must reach the raw penguins table). Screenshots: ``test-artifacts/screenshots/loop-NN-*.png``;
with ``WORKBENCH_PUBLISH_SCREENSHOTS=1`` the README's seven are refreshed in ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import LONG, ROOT, SHOTS, assert_no_error, choose, shot, start_server, start_study, stop_server, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(2400)]  # every stage, on a loaded machine
PROJECT = "default"
MODEL = "default-species"  # one registered model per prediction job
DOCS = {"loop-00-home": "home", "loop-02-data-recipe": "data", "loop-05-label-lasso": "label",
        "loop-07-tune-done": "tune", "loop-09-compare-promoted": "compare", "loop-10-deploy-exported": "deploy",
        "loop-12-monitor-retrained": "monitor"}


# -- helpers ------------------------------------------------------------------------------------
def _seen(page, step: str) -> None:  # noqa: ANN001
    """What the person sees is sound: no exception box, no traceback, no horizontal overflow."""
    assert_no_error(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"{step}: horizontal overflow ({width}px)"


def _snap(page, name: str, anchor: str | None = None) -> None:  # noqa: ANN001
    """A screenshot of the step: a taller viewport (Streamlit scrolls inside its main block, so a
    full-page shot is only the viewport), scrolled to ``anchor`` (a text) or to the top."""
    page.set_viewport_size({"width": 1280, "height": 1300})
    page.wait_for_timeout(300)
    if anchor:
        page.get_by_text(anchor).first.scroll_into_view_if_needed()
        page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                      " if (m) m.scrollBy(0, -80); }")
    else:
        page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]'); if (m) m.scrollTo(0, 0); }")
    page.wait_for_timeout(300)
    shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})


def _shown(box) -> str:  # noqa: ANN001
    """What a selectbox shows: its text and the value of its (searchable) input."""
    return box.inner_text() + " " + " ".join(i.input_value() for i in box.locator("input").all())


def _pick(page, scope, option: str) -> None:  # noqa: ANN001
    """Open a selectbox (a locator) and choose the option whose text contains ``option``."""
    # The dropdown is virtualised: an option far down the list is not in the DOM until scrolled to.
    # Typing filters the list (the selectbox is searchable), so the option is always rendered.
    choose(page, scope, re.compile(re.escape(option)), typed=option)
    wait_idle(page)


def _step(page, title: str, params: dict[str, str | list[str]] | None = None, kind: str = "split") -> None:  # noqa: ANN001
    """Add a recipe step: choose its kind, set select params (a list fills a multiselect), preview, apply."""
    page.get_by_text("Add a step").wait_for()
    _pick(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Step").first, title)
    for name, value in (params or {}).items():
        scope = page.locator(f'[class*="st-key-data_p_"][class*="_{kind}_{name}"]').first
        if isinstance(value, str):
            _pick(page, scope, value)
            continue
        for one in value:  # a multiselect: type each name and take the (filtered) option
            choose(page, scope, one, typed=one)
            wait_idle(page)
        page.keyboard.press("Escape")
        for one in value:
            scope.get_by_text(one, exact=True).first.wait_for()  # each chosen column shows as a tag
    page.get_by_role("button", name="Preview").click()
    wait_idle(page)
    page.get_by_role("button", name="Apply step").click()
    wait_idle(page)


def _tracker(home: Path):  # noqa: ANN202
    from core.config import Settings
    from core.tracking import Tracker

    return Tracker.connect(Settings.from_env({"WORKBENCH_HOME": str(home)}))


def _drifted_batch(path: Path) -> Path:
    """120 raw penguins (as the field file has them, 'NA' tokens and all) that weigh 1.5 kg more."""
    raw = pd.read_csv(ROOT / "data" / "penguins.csv", keep_default_na=False)
    batch = raw.sample(120, random_state=7).reset_index(drop=True)
    mass = pd.to_numeric(batch["body_mass_g"], errors="coerce")
    batch["body_mass_g"] = (mass + 1500).astype("Int64").astype(str).replace("<NA>", "NA")
    batch.to_csv(path, index=False)
    return path


def _lasso_around_the_batch(page, chart) -> None:  # noqa: ANN001
    """Draw a small lasso around the outlined queue-batch point (Plotly's dragmode is lasso on this chart).

    The point's pixel position comes from the figure itself (trace 1 = the open batch, axis ``l2p``).
    """
    chart.locator(".nsewdrag").first.wait_for()
    x, y = chart.locator(".js-plotly-plot").first.evaluate("""gd => {
        const t = gd.data[1], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(t.x[0]), r.top + ya._offset + ya.l2p(t.y[0])];
    }""")
    page.mouse.move(x - 22, y - 22)
    page.mouse.down()
    for px, py in [(x + 22, y - 22), (x + 22, y + 22), (x - 22, y + 22), (x - 22, y - 20)]:
        page.mouse.move(px, py, steps=8)
    page.mouse.up()


# -- the journey ------------------------------------------------------------------------------------
def test_the_whole_loop(tmp_path: Path, browser) -> None:  # noqa: ANN001, PLR0915
    from core.tracking.datasets import dataset_versions, load_dataset
    from core.tracking.models import model_versions

    home = tmp_path / "workspace"
    batch_file = _drifted_batch(tmp_path / "penguins-new-colony.csv")
    # numba's JIT cache outside the fresh workspace: the first map of a run skips recompiling UMAP
    server = start_server(home, {"NUMBA_CACHE_DIR": str(ROOT / "test-artifacts" / "numba-cache")}, timeout=240)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(120_000)
    t = _tracker(home)
    try:
        # 1. Data: open penguins, clean with a recipe, save a version with target species ---------
        page.goto(f"{server.url}/data")
        page.get_by_text("Pick a bundled data set").wait_for()
        wait_idle(page)
        _pick(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Bundled data set").first, "enguin")
        page.locator(".st-key-data_open_bundled button").click()
        page.get_by_text("344 rows × 8 columns").first.wait_for()
        wait_idle(page)
        page.get_by_text("Suspected missing-value tokens").wait_for()
        _seen(page, "data profile")
        _snap(page, "loop-01-data-profile")

        page.get_by_role("tab", name="Clean").click()
        _step(page, "Normalise missing tokens")
        # the numbers only: the 11 penguins without a sex stay unlabelled for the Label stage (by default impute
        # would give them the most frequent sex)
        _step(page, "Impute missing values", {"columns": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                                                          "body_mass_g"]}, kind="impute")
        _step(page, "Split train / test", {"method": "stratified", "target": "species"})
        page.get_by_text("3. Split train / test").wait_for()
        page.get_by_text("'train': 275, 'test': 69").first.wait_for()  # the stratified split, in the result caption
        _seen(page, "recipe")
        _snap(page, "loop-02-data-recipe")

        page.get_by_role("tab", name="Versions").click()
        _pick(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Target column").first, "species")
        page.get_by_role("button", name="Save version").click()
        page.get_by_text("Saved penguins v1 (344 rows").wait_for(timeout=LONG)
        wait_idle(page)
        _seen(page, "data saved")
        _snap(page, "loop-03-data-saved")
        versions = dataset_versions(t, PROJECT)
        cleaned = next(v for v in versions if v.label == "penguins v1")
        assert (cleaned.rows, cleaned.has_split, cleaned.target) == (344, True, "species")
        raw_runs = [r for r in t.lineage(cleaned.run_id) if r.tags.get("workbench.dataset.kind") == "raw"]
        assert len(raw_runs) == 1, "the cleaned version must name its raw table as input"
        raw_run = raw_runs[0].run_id

        # 2. Label: the 11 penguins with no sex — a queue batch, then a lasso on the map -----------
        page.goto(f"{server.url}/label")
        page.get_by_text("Session set-up").first.wait_for()
        wait_idle(page)
        page.locator('[class*="st-key-label_row_"]').first.wait_for()
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset version").first
        assert "penguins v1" in _shown(picker)
        assert "sex" in _shown(page.locator(f".st-key-label_{cleaned.run_id[:8]}_col"))
        _seen(page, "label queue")
        _snap(page, "loop-04-label-queue", "Batch:")
        frame = load_dataset(t, cleaned.run_id)
        rows: list[int] = []
        given: dict[int, str] = {}
        for _ in range(10):  # the queue shows one row at a time; a click shows the next one of the batch
            cls = page.locator('[class*="st-key-label_row_"]').first.get_attribute("class")
            row = int(re.search(r"st-key-label_row_(\d+)", cls).group(1))
            said = re.search(r"Model says (\w+)", page.locator(".st-key-label_card").inner_text())
            assert said, "with 333 labelled penguins the learner already makes a suggestion"
            rows.append(row)
            given[row] = said.group(1)
            page.locator(".st-key-label_classes").get_by_role("button", name=given[row], exact=True).click()
            page.locator(f".st-key-label_row_{row}").wait_for(state="detached")
        wait_idle(page)
        assert frame.loc[rows, "sex"].isna().all(), "the queue asks only about penguins without a sex"
        _seen(page, "label batch done")

        page.get_by_role("tab", name="Map").click()
        # PCA is drawn at once (UMAP would swap in when its background fit ends: pick PCA so the lasso's map stays)
        page.locator(".st-key-label_map_method").get_by_text("PCA", exact=True).click()
        wait_idle(page)
        chart = page.locator(".st-key-label_map_chart")
        chart.locator(".js-plotly-plot").wait_for(timeout=LONG)
        wait_idle(page)
        chart.scroll_into_view_if_needed()
        _lasso_around_the_batch(page, chart)
        page.get_by_text("point(s) selected: 1 will get").wait_for(timeout=LONG)
        wait_idle(page)
        _snap(page, "loop-05-label-lasso", "Colour by")
        page.get_by_role("button", name=re.compile(r"Label 1 point\(s\) as")).click()
        wait_idle(page)
        # the labelled lasso is cleared: the panel is back to its hint, no stale "N point(s) selected"
        page.get_by_text("Draw a lasso or a box around points").wait_for(timeout=LONG)
        assert page.get_by_text("point(s) selected").count() == 0
        _seen(page, "label lasso")

        page.get_by_role("tab", name="Save").click()
        page.get_by_role("button", name="Save label set").click()
        page.get_by_text("labels as penguins-labels v1").wait_for(timeout=LONG)
        wait_idle(page)
        _seen(page, "label saved")
        _snap(page, "loop-06-label-saved")
        label_runs = t.runs(PROJECT, stage="label")
        assert len(label_runs) == 1 and list(label_runs[0].inputs) == [cleaned.run_id]
        labelled = next(v for v in dataset_versions(t, PROJECT) if v.label == "penguins-labels v1")
        table = load_dataset(t, labelled.run_id)
        assert len(table) == 344 and table["sex"].notna().all()
        assert all(table.loc[r, "sex"] == s for r, s in given.items())
        assert labelled.has_split, "the label set keeps the Data stage's train / test split"

        # 3. Tune: a short linear study on the label set, target species -------------------------
        page.goto(f"{server.url}/tune")
        page.get_by_label("Trials (budget)").wait_for()
        wait_idle(page)
        assert "penguins-labels v1" in _shown(page.locator('[data-testid="stSelectbox"]').filter(
            has_text="Dataset version").first)
        _pick(page, page.locator(f".st-key-tune_target_{labelled.run_id}"), "species")
        assert "Linear" in _shown(page.locator(".st-key-tune_family"))
        start_study(page, "loop-linear", 4)
        page.get_by_text("Best model registered as").first.wait_for(timeout=LONG)
        wait_idle(page)
        page.get_by_text("4 of 4 trials").first.wait_for()
        _seen(page, "tune")
        _snap(page, "loop-07-tune-done")
        (mv,) = model_versions(t, MODEL)
        assert mv.tags["workbench.target"] == "species" and mv.tags["workbench.data_version"] == labelled.run_id
        chain = {r.run_id for r in t.lineage(mv.run_id)}
        assert {labelled.run_id, label_runs[0].run_id, cleaned.run_id, raw_run} <= chain, \
            "the model version's lineage reaches the raw penguins table"

        # 4. Compare: side by side, then promote through the gate --------------------------------
        page.goto(f"{server.url}/compare")
        page.get_by_role("tab", name="Side by side").click()
        page.get_by_text("Permutation importance").first.click()  # off: faster on a busy machine
        wait_idle(page)  # the toggle's rerun is over: the button below is the one of this run
        page.get_by_role("button", name="Evaluate side by side").click()
        page.get_by_text("Logged as compare run").first.wait_for(timeout=LONG)
        wait_idle(page)
        page.get_by_text("(test rows: 69)").first.wait_for()  # evaluated on the held-out split
        _seen(page, "compare side by side")
        _snap(page, "loop-08-compare-side-by-side", "Logged as compare run")
        page.get_by_role("tab", name="Champion / challenger").click()
        page.get_by_text("none yet").first.wait_for()
        page.get_by_role("button", name="Run the gate").click()
        page.get_by_text("Gate passed.").first.wait_for(timeout=LONG)
        wait_idle(page)
        champion_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Champion").first
        champion_metric.locator('[data-testid="stMetricValue"]').filter(has_text="v1").wait_for()
        _seen(page, "compare gate")
        _snap(page, "loop-09-compare-promoted")
        (mv,) = model_versions(t, MODEL)
        assert "champion" in mv.aliases
        assert len(t.runs(PROJECT, stage="compare")) >= 2  # the evaluation and the gate

        # 5. Deploy: export the champion to ONNX, parity and latency, record it -----------------
        page.goto(f"{server.url}/deploy")
        page.get_by_role("heading", name="Deploy").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Export to ONNX").click()
        page.get_by_text("Equivalent on").first.wait_for(timeout=LONG)
        wait_idle(page)
        page.get_by_text("per row (p50)").wait_for()  # the latency caption, drawn last of the result
        assert page.get_by_role("heading", name=f"Parity — {MODEL} v1 (champion)").count() == 1
        assert page.get_by_text("Latency and size").count() == 1
        assert page.get_by_text("onnxruntime", exact=True).count() >= 1
        assert page.get_by_role("cell", name="pass", exact=True).count() >= 1
        assert page.get_by_role("cell", name="FAIL", exact=True).count() == 0
        _seen(page, "deploy")
        _snap(page, "loop-10-deploy-exported", "Parity —")
        page.get_by_role("button", name="Record in MLflow and register").click()
        page.get_by_text("Deploy run").first.wait_for(timeout=LONG)
        wait_idle(page)
        _seen(page, "deploy recorded")
        deploy_runs = t.runs(PROJECT, stage="deploy")
        assert len(deploy_runs) == 1 and mv.run_id in {r.run_id for r in t.lineage(deploy_runs[0].run_id)}
        (onnx,) = [m for m in model_versions(t, f"{MODEL}.onnx") if m.is_onnx]
        assert onnx.tags["workbench.source_version"] == str(mv.version) and onnx.tags["workbench.parity"] == "equivalent"

        # 6. Monitor: a drifted batch, then retrain → challenger → gate ---------------------------
        page.goto(f"{server.url}/monitor")
        page.get_by_text("1. Reference and current").wait_for()
        wait_idle(page)
        assert "penguins-labels v1" in _shown(page.locator(".st-key-mon_ref"))  # the champion's training data
        page.get_by_text("Upload a file").click()
        wait_idle(page)
        page.locator(".st-key-mon_upload input[type=file]").set_input_files(str(batch_file))
        upload = page.locator(".st-key-mon_upload")
        upload.get_by_test_id("stFileChip").wait_for()  # the file is listed …
        upload.get_by_test_id("stFileChipIconSpinner").wait_for(state="detached")  # … and uploaded, not only picked
        page.get_by_role("button", name="Run the check").wait_for()
        wait_idle(page)
        page.get_by_role("button", name="Run the check").click()
        page.get_by_text("Recorded as monitor run").first.wait_for(timeout=LONG)
        wait_idle(page)
        page.get_by_text("Domain classifier ROC AUC").first.wait_for()
        page.get_by_text(re.compile(r"DRIFT · separating columns: body_mass_g")).first.wait_for()
        _seen(page, "monitor check")
        _snap(page, "loop-11-monitor-drift", "2. Results")
        (check,) = t.runs(PROJECT, stage="monitor")
        assert check.metrics["n_drifted"] >= 1 and "drift.body_mass_g.score" in check.metrics
        assert {labelled.run_id, mv.run_id} <= set(check.inputs)  # reference = the champion's data, and the champion

        page.get_by_role("button", name="Retrain now").click()
        page.get_by_text(re.compile(r"Retrained .*gate: (promoted|not promoted)")).first.wait_for(timeout=LONG)
        wait_idle(page)
        _seen(page, "retrain")
        _snap(page, "loop-12-monitor-retrained", "3. Retraining")
        (retrain,) = t.runs(PROJECT, stage="retrain")
        assert retrain.tags["workbench.retrain.decision"] in ("promoted", "refused")
        versions_now = model_versions(t, MODEL, sklearn_only=True)
        assert [v.version for v in versions_now][1:] == [mv.version]
        new = versions_now[0]
        assert "challenger" in new.aliases or "champion" in new.aliases
        assert {new.run_id, mv.run_id, check.run_id} <= set(retrain.inputs)  # … and the check that prompted it
        assert raw_run in {r.run_id for r in t.lineage(new.run_id)}, "the challenger's lineage reaches raw penguins"

        # 7. Home: the loop and the lineage of the project ------------------------------------------
        page.goto(server.url)
        page.get_by_text("Registered model").first.wait_for()
        wait_idle(page)
        page.locator('[data-testid="stGraphVizChart"]').first.wait_for()
        _seen(page, "home")
        _snap(page, "loop-00-home")
    except Exception:
        page.set_viewport_size({"width": 1280, "height": 1300})
        shot(page, "loop-FAILED")
        raise
    finally:
        context.close()
        stop_server(server)
    if os.environ.get("WORKBENCH_PUBLISH_SCREENSHOTS") == "1":  # refresh the README's pictures on purpose only
        _publish_screenshots()


def _publish_screenshots() -> None:
    """Copy the README's screenshots to docs/screenshots (viewport-sized crops, each under 400 KB)."""
    from PIL import Image

    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for src, name in DOCS.items():
        path = SHOTS / f"{src}.png"
        img = Image.open(path).convert("RGB")
        img = img.crop((0, 0, img.width, min(img.height, 1400)))
        target = out / f"{name}.png"
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        if target.stat().st_size > 400_000:
            shutil.copyfile(path, target)
        assert target.stat().st_size < 400_000, f"{target.name} is {target.stat().st_size:,} bytes"
