"""Benchmark of the retraining modes on a drifting stream: forgetting vs learning vs time.

    .venv/bin/python bench/bench_retrain.py [--quick]

The stream is the bundled Seattle weather table (2012–2015, daily; the weather labels are recorded
differently from 2014 on, so the later years drift). The champion is trained on 2012–2013 (80 %,
its 20 % held out), 2014 arrives labelled and each mode retrains through the workbench's own
``retrain`` on a temporary store (save version → challenger → gate). Scores are accuracy on rows no
model was trained on: the *old* period is 2012–2013's held-out part, the *new* period is 2015.
Prints one row per family × mode: old-period score, new-period score, wall time of the retrain.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one family (mlp) only")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

    import numpy as np
    import pandas as pd

    from core.config import Settings
    from core.errors import MonitorError
    from core.models import spec_from_tags
    from core.monitor.demo import seed_example
    from core.monitor.retrain import RetrainPolicy, retrain
    from core.monitor.retrain_modes import MODES, check_mode
    from core.tracking import Tracker
    from core.tracking.datasets import load_dataset, load_split
    from core.tracking.models import load_sklearn_model

    raw = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "seattle-weather.csv")
    year = pd.to_datetime(raw["date"]).dt.year
    table = raw.drop(columns="date")
    old, new, later = table[year <= 2013], table[year == 2014], table[year == 2015]
    families = ("mlp",) if args.quick else ("rf", "mlp")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-retrain-") as tmp:
        for family in families:
            for mode in MODES:
                try:
                    check_mode(mode, family, "classification")
                except Exception:  # noqa: BLE001 - the mode does not apply to the family: say so in the table
                    rows.append((family, mode, None, None, None, None, "does not apply"))
                    continue
                home = Path(tmp) / f"{family}-{mode}"
                home.mkdir()
                tracker = Tracker.connect(Settings.from_env({"WORKBENCH_HOME": str(home)}))
                project = "weather"
                version, champion = seed_example(tracker, project, old.reset_index(drop=True), "weather-2012-13",
                                                 "weather", family=family, test_share=0.2)
                reference = load_dataset(tracker, version.run_id)
                held = reference[np.asarray(load_split(tracker, version.run_id)) == "test"]
                spec = spec_from_tags(champion.tags)
                base = load_sklearn_model(tracker, champion)

                def score(model, frame):  # noqa: ANN001, ANN202
                    return float(np.mean(model.predict(frame[list(spec.columns)]) == frame["weather"]))

                t0 = time.perf_counter()
                try:
                    result = retrain(tracker, project, RetrainPolicy(n_trials=5),
                                     current=new.reset_index(drop=True), mode=mode)
                except MonitorError as err:  # e.g. fine-tuning a forest on rows lacking a class: the sentence
                    rows.append((family, mode, score(base, held), None, score(base, later), None,
                                 f"refused: {str(err)[:90]}"))
                    continue
                wall = time.perf_counter() - t0
                model = load_sklearn_model(tracker, result.challenger)
                gate = "promoted" if result.decision.passed else "refused"
                rows.append((family, mode, score(base, held), score(model, held), score(base, later),
                             score(model, later), f"{wall:.1f} s, gate {gate}"))
    print(f"{'family':<7} {'mode':<12} {'old: champion':>14} {'old: new':>9} {'new: champion':>14} "
          f"{'new: new':>9}  wall time")
    for family, mode, oc, on, nc, nn, note in rows:
        fmt = lambda v: f"{v:.3f}" if v is not None else "—"  # noqa: E731
        print(f"{family:<7} {mode:<12} {fmt(oc):>14} {fmt(on):>9} {fmt(nc):>14} {fmt(nn):>9}  {note}")
    print("old = 2012–13 held-out rows; new = 2015 (never trained on); accuracy.")


if __name__ == "__main__":
    main()
