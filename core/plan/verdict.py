"""The charter's verdict for the champion: does the model that serves reach the bar, and by how much?

Cheap on purpose (Home calls it on every render): no model is loaded and nothing is refit. The
champion's score on the charter's success metric is read from what the promotion gate already
recorded — the newest ``compare`` gate run of the champion's registered model in which the champion
took part (as the challenger that passed, or as the champion defending) — first from the run's
``challenger.<metric>`` / ``champion.<metric>`` metric, else from its ``evaluation/metrics.csv``
(the gate evaluates every metric on the held-out rows, so a charter metric that is not the gate
metric is there too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from core.plan.charter import Verdict, charter_verdict, load_charter

if TYPE_CHECKING:  # pragma: no cover
    from core.plan.charter import Charter
    from core.tracking import RunSummary, Tracker
    from core.tracking.models import ModelVersionInfo

GATE_KIND_TAG = "workbench.compare.kind"  # the value core.compare.gate writes ("gate")


def champion_for(tracker: Tracker, project: str, charter: Charter,
                 versions: Sequence[ModelVersionInfo] | None = None) -> ModelVersionInfo | None:
    """The champion of the project's registered model that predicts the charter's target (None when none).

    ``versions``: the project's model versions when the caller already read them (Home's snapshot).
    """
    if versions is None:
        from core.tracking.models import model_versions, project_models

        versions = [mv for name in project_models(tracker, project) for mv in model_versions(tracker, name)]
    return next((mv for mv in versions if "champion" in mv.aliases and not mv.is_onnx
                 and mv.tags.get("workbench.target") == charter.target), None)


def recorded_score(tracker: Tracker, project: str, mv: ModelVersionInfo, metric: str,
                   runs: Sequence[RunSummary] | None = None) -> float | None:
    """``mv``'s held-out ``metric`` from the newest gate run it took part in (None when none recorded it).

    ``runs``: the project's runs, newest first, when the caller already read them (Home's snapshot).
    """
    from core.errors import TrackingError

    if runs is None:
        flt = f"tags.`{GATE_KIND_TAG}` = 'gate' and params.model = '{mv.name}'"
        runs = tracker.runs(project, stage="compare", filter_string=flt, max_results=50)
    gates = [r for r in runs if r.stage == "compare" and r.tags.get(GATE_KIND_TAG) == "gate"
             and r.params.get("model") == mv.name]
    version = str(mv.version)
    for run in gates:
        if run.params.get("challenger_version") == version and run.tags.get("workbench.gate.decision") == "passed":
            role = "challenger"
        elif run.params.get("champion_version") == version:
            role = "champion"
        else:
            continue
        value = run.metrics.get(f"{role}.{metric}")
        if value is None:
            try:
                value = _from_table(tracker, run.run_id, f"v{version}", metric)
            except (TrackingError, OSError, ValueError, KeyError):
                value = None
        if value is not None and math.isfinite(value):
            return float(value)
    return None


def _from_table(tracker: Tracker, run_id: str, model: str, metric: str) -> float | None:
    import pandas as pd

    table = pd.read_csv(tracker.download(run_id, "evaluation/metrics.csv"), index_col="metric")
    if metric not in table.index or model not in table.columns:
        return None
    return float(table.loc[metric, model])


def champion_verdict(tracker: Tracker, project: str, *, versions: Sequence[ModelVersionInfo] | None = None,
                     runs: Sequence[RunSummary] | None = None) -> Verdict | None:
    """Whether the champion meets the charter (None when the project has no charter or no champion).

    The sentence names the champion's version; without a recorded held-out score it says so.
    ``versions`` / ``runs``: what the caller already read (Home's snapshot), so nothing is searched twice.
    """
    charter = load_charter(tracker, project)
    if charter is None:
        return None
    mv = champion_for(tracker, project, charter, versions)
    if mv is None:
        return None
    score = recorded_score(tracker, project, mv, charter.metric, runs)
    who = f"{mv.name} v{mv.version}"
    if score is None:
        op = "≥" if charter.higher_is_better else "≤"
        return Verdict(False, math.nan, f"No gate has recorded a held-out {charter.metric} of the champion {who} "
                                        f"yet, so the charter's bar ({charter.metric} {op} {charter.threshold:g}) "
                                        "cannot be judged; run the gate in Compare.")
    verdict = charter_verdict(charter, score)
    return replace(verdict, sentence=verdict.sentence.replace("The champion", f"The champion {who}", 1))
