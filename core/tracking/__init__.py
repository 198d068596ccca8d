"""The only package that talks to MLflow.

Everything goes through :class:`Tracker`, which wraps an ``MlflowClient`` and
always passes run ids explicitly — never the fluent active-run globals, which
are unsafe in a web server that reruns scripts on many threads.

Conventions every stage follows:

* one MLflow experiment per project (tag ``workbench.project``);
* every stage run is tagged ``workbench.stage`` (``data``, ``label``, ``tune``,
  ``compare``, ``deploy``, ``monitor``, ``retrain``) and ``workbench.inputs``
  (comma-separated run ids it consumed), so lineage can be walked back to raw data;
* the project's registered model carries the name of the project and the
  aliases ``champion`` / ``challenger``.
"""

from __future__ import annotations

import os

# MLflow 3.x starts a usage-telemetry client when it is imported; when it cannot reach its endpoint
# it unsets an environment variable from a background thread while HTTP requests read os.environ,
# which made a tune-worker's log_batch fail with KeyError '_MLFLOW_TELEMETRY_SESSION_ID' (seen here,
# no internet). Off unless the person sets it; every mlflow import in the workbench comes after this.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# No model deserialisation through MLflow (pickle, and skops with the model's own trust list): the
# workbench loads models through core.tracking.safe_load, with a fixed allow-list (issue 15).
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")

from core.tracking.tracker import (  # noqa: E402
    INPUTS_TAG,
    STAGE_TAG,
    STAGES,
    RunSummary,
    StoreHealth,
    Tracker,
)

__all__ = ["INPUTS_TAG", "STAGE_TAG", "STAGES", "RunSummary", "StoreHealth", "Tracker"]
