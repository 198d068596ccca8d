"""What the workbench records, read back with the plain MlflowClient (issue 16)."""

from __future__ import annotations

import pandas as pd

from core.tracking.datasets import log_dataset_inputs, log_dataset_version


def test_log_dataset_inputs_points_at_the_data_runs_entity(tracker) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": ["x", "y", "x"]})
    ref_run = tracker.start_run("p", "data", name="ref")
    ref = log_dataset_version(tracker, ref_run, "p", frame, "toy", target="y")
    tracker.end_run(ref_run)
    cur_run = tracker.start_run("p", "data", name="cur")
    cur = log_dataset_version(tracker, cur_run, "p", frame.head(2), "toy-batch")
    tracker.end_run(cur_run)

    run_id = tracker.start_run("p", "monitor", name="check")
    log_dataset_inputs(tracker, run_id, [(ref.run_id, "reference"), (cur.run_id, "current"), ("", "x")])
    run = tracker.client.get_run(run_id)
    seen = {i.tags[0].value: (i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs}
    assert seen == {"reference": ("toy:v1", ref.digest), "current": ("toy-batch:v1", cur.digest)}
