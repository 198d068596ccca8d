"""The app's pages in the order of the loop: one list for the navigation and for Home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    stage: str  # the workbench.stage its runs carry ("" for Home)
    file: str
    title: str
    url: str
    icon: str
    blurb: str

    @property
    def exists(self) -> bool:
        return (ROOT / self.file).exists()


PAGES = (
    PageInfo("plan", "pages/plan.py", "Plan", "plan", ":material/flag:",
             "The charter (the bar to reach) and pipelines on Prefect."),
    PageInfo("", "pages/home.py", "Home", "", ":material/home:", "The loop, the registered model and lineage."),
    PageInfo("data", "pages/data.py", "Data", "data", ":material/table:", "Load, profile, clean and version a table."),
    PageInfo("label", "pages/label.py", "Label", "label", ":material/label:",
             "Active learning and lasso labelling on a UMAP map."),
    PageInfo("tune", "pages/tune.py", "Tune", "tune", ":material/tune:", "Optuna studies; every trial an MLflow run."),
    PageInfo("compare", "pages/compare.py", "Compare", "compare", ":material/compare:",
             "Side by side, champion / challenger, shadow and A/B."),
    PageInfo("deploy", "pages/deploy.py", "Deploy", "deploy", ":material/rocket_launch:",
             "ONNX export with proven parity, size and latency."),
    PageInfo("monitor", "pages/monitor.py", "Monitor", "monitor", ":material/monitoring:",
             "Drift and quality of new data; retrain when it moves."),
)
