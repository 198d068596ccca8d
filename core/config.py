"""Settings read once from the environment, with local embedded defaults.

Environment variables (all optional):

``WORKBENCH_HOME``       workspace folder (default ``./workspace``): SQLite store,
                         artifacts, Optuna journal, label logs, numba cache.
``MLFLOW_TRACKING_URI``  any MLflow tracking URI; default SQLite in the workspace.
``WORKBENCH_ARTIFACTS``  artifact root for new experiments on the embedded store.
``OPTUNA_STORAGE``       any Optuna storage URL; default a journal file in the workspace.
``WORKBENCH_PROJECT``    the project (MLflow experiment) the app opens first.
``WORKBENCH_DATA_DIR``   bundled data sets (default ``<repo>/data``).
``WORKBENCH_MLFLOW_UI``  the MLflow UI the app links runs and models to (default
                         ``http://127.0.0.1:5000``, what ``make mlflow-ui`` serves; empty: no links).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from core.names import UnsafeNameError, check_project

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT = "default"
DEFAULT_MLFLOW_UI = "http://127.0.0.1:5000"  # what `make mlflow-ui` serves


@dataclass(frozen=True)
class Settings:
    """Where everything lives. Build with :meth:`from_env`."""

    home: Path
    tracking_uri: str
    artifact_root: str
    optuna_storage: str
    project: str
    data_dir: Path
    mlflow_ui: str = ""  # base URL of the MLflow UI for links; "" = no links

    @property
    def embedded(self) -> bool:
        """True when the tracking store is the local SQLite default."""
        return self.tracking_uri.startswith("sqlite:")

    @property
    def labels_dir(self) -> Path:
        return self.home / "labels"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default ``os.environ``).

        Raises:
            ConfigError: a value is present but unusable.
        """
        env = dict(os.environ if env is None else env)
        home = Path(env.get("WORKBENCH_HOME") or REPO_ROOT / "workspace").expanduser().resolve()
        tracking_uri = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow.db'}"
        if "://" not in tracking_uri and not tracking_uri.startswith("sqlite:"):
            raise ConfigError(
                f"MLFLOW_TRACKING_URI must be a URI such as sqlite:///path/mlflow.db or "
                f"http://127.0.0.1:5000. Got {tracking_uri!r} instead."
            )
        artifact_root = env.get("WORKBENCH_ARTIFACTS") or (home / "artifacts").as_uri()
        storage = env.get("OPTUNA_STORAGE") or str(home / "optuna.journal")
        project = (env.get("WORKBENCH_PROJECT") or DEFAULT_PROJECT).strip()
        if not project:
            raise ConfigError("WORKBENCH_PROJECT must not be blank.")
        try:
            project = check_project(project)
        except UnsafeNameError as err:
            raise ConfigError(f"WORKBENCH_PROJECT: {err}") from None
        data_dir = Path(env.get("WORKBENCH_DATA_DIR") or REPO_ROOT / "data").resolve()
        mlflow_ui = env.get("WORKBENCH_MLFLOW_UI", DEFAULT_MLFLOW_UI).strip().rstrip("/")
        if mlflow_ui and not mlflow_ui.startswith(("http://", "https://")):
            raise ConfigError(f"WORKBENCH_MLFLOW_UI must be an http(s) URL such as {DEFAULT_MLFLOW_UI}, or empty "
                              f"for no links. Got {mlflow_ui!r} instead.")
        return cls(home, tracking_uri, artifact_root, storage, project, data_dir, mlflow_ui)

    def ensure_dirs(self) -> None:
        """Create the workspace folders (idempotent)."""
        for path in (self.home, self.labels_dir, self.cache_dir):
            path.mkdir(parents=True, exist_ok=True)
