"""AppTest of the Monitor page's sections after a check: the label queue and *Retrain now* on a real store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.ui.conftest import app_test


def _toy(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": np.where(x1 + 0.5 * x2 > 0, "yes", "no")})


def test_after_a_check_the_batch_goes_to_the_label_queue_and_retrain_now_meets_the_gate(settings, tracker) -> None:
    from core.monitor.demo import seed_example
    from core.monitor.retrain import RetrainPolicy, save_policy
    from core.tracking.datasets import log_dataset_version

    seed_example(tracker, "default", _toy(300, 0), "toy", "y")
    with tracker.stage_run("default", "data", name="new batch") as rid:
        log_dataset_version(tracker, rid, "default", _toy(200, 1, shift=1.0), "week-2", target="y")
    save_policy(tracker, "default", RetrainPolicy(n_trials=1))
    at = app_test("pages/monitor.py", timeout=240).run()
    at.selectbox(key="mon_cur").set_value(next(o for o in at.selectbox(key="mon_cur").options if "week-2" in o)).run()
    at.button(key="mon_run").click().run()
    assert not at.exception
    (check,) = tracker.runs("default", stage="monitor")

    at.button(key="mon_queue").click().run()
    assert not at.exception
    assert any("with an empty 'y' column" in s.value for s in at.success)

    at.button(key="mon_retrain").click().run()
    assert not at.exception
    (retrain,) = tracker.runs("default", stage="retrain")
    assert check.run_id in retrain.inputs  # the check that prompted it
    assert at.success and at.success[-1].value
