"""Monitor stage: schema check, drift (fast, Evidently-equivalent), multivariate and
prediction drift, quality, timelines, MLflow records, and the retraining loop.

Submodules import their heavy dependencies (evidently, sklearn, mlflow via
core.tracking) inside functions, so ``import core.monitor`` stays light.
"""
