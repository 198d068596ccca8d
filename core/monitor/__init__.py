"""Monitor stage: schema check, drift (fast, Evidently-equivalent), multivariate, autoencoder and
prediction drift, quality on held-out rows (``heldout``), the charter's findings, fairness and cost
(``charter_checks``, ``outcomes``), timelines, MLflow records (``records``), the flows the page, the
CLI and the pipelines share (``service``), and the retraining loop.

Submodules import their heavy dependencies (evidently, sklearn, mlflow via
core.tracking) inside functions, so ``import core.monitor`` stays light.
"""
