"""Load a registered scikit-learn model without running code from the model file.

skops refuses to build a type it does not trust, but MLflow passes it the trust list
stored in the model's own ``MLmodel`` file, so anyone who can write to a shared tracking
store can make the workbench trust ``builtins.eval``. Here the list is fixed in the code:
the types the workbench's own pipelines need beyond skops' defaults (every family of
:mod:`core.models` for both tasks — a test builds them all, so the list cannot go stale).
The ``MLmodel`` file is read only for its serialization format; its trust list is ignored.
Pickle and cloudpickle models are refused outright (and ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``
is off for the workbench's processes, see :mod:`core.tracking`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import TrackingError

if TYPE_CHECKING:  # pragma: no cover
    from core.tracking.tracker import Tracker

# Types skops does not trust by default that the workbench's pipelines contain
# (core.models.build_pipeline: ColumnTransformer + SimpleImputer/StandardScaler/OneHotEncoder + one of FAMILIES).
ALLOWED_TYPES: tuple[str, ...] = (
    "numpy.dtype",  # dtype objects held by encoders and fitted arrays
    "sklearn.tree._tree.Tree",  # rf
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # hgb
    "sklearn.neighbors._kd_tree.KDTree",  # knn (algorithm="auto", few features)
    "sklearn.neighbors._ball_tree.BallTree",  # knn (algorithm="auto" may pick it instead)
    "sklearn.metrics._dist_metrics.EuclideanDistance64",  # knn's tree metric
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",  # mlp (solver="adam")
)


def _flavor(model_dir: Path, label: str) -> dict[str, Any]:
    import yaml

    try:
        meta = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8")) or {}
        return dict(meta["flavors"]["sklearn"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as err:
        raise TrackingError(f"{label} has no readable scikit-learn MLmodel file ({type(err).__name__}); "
                            "it was not saved by the workbench.") from err


def load_model_dir(model_dir: str | Path, label: str = "The model") -> Any:
    """Load the skops model in a downloaded MLflow model folder, trusting :data:`ALLOWED_TYPES` only.

    Raises:
        TrackingError: the model is not in skops format, or it contains a type outside the allow-list.
    """
    import skops.io as sio

    folder = Path(model_dir)
    flavor = _flavor(folder, label)
    fmt = flavor.get("serialization_format", "pickle")
    if fmt != "skops":
        raise TrackingError(f"{label} is saved as {fmt}, which can run code when loaded; the workbench loads "
                            "skops models only (retrain it in the workbench to get one).")
    path = folder / str(flavor.get("pickled_model") or "model.skops")
    if path.resolve().parent != folder.resolve():
        raise TrackingError(f"{label}'s MLmodel points outside its own folder ({path.name!r}); it is not loaded.")
    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as err:  # noqa: BLE001 - a damaged file is the person's problem, told in one sentence
        raise TrackingError(f"{label} cannot be read as a skops file: {str(err).splitlines()[0] if str(err) else err!r}"
                            ) from err
    extra = sorted(set(found) - set(ALLOWED_TYPES))
    if extra:
        more = f" (and {len(extra) - 1} more: {', '.join(extra[1:4])})" if len(extra) > 1 else ""
        raise TrackingError(f"{label} contains the type {extra[0]!r}{more}, which the workbench does not load: "
                            "only the types of its own model families are trusted, whatever the model file says.")
    return sio.load(path, trusted=list(ALLOWED_TYPES))


def load_registered(tracker: Tracker, uri: str, label: str) -> Any:
    """Download the model at ``uri`` (``models:/name/version``, ``runs:/…`` or a logged model) and load it safely."""
    import mlflow.artifacts

    registry = getattr(tracker.client, "_registry_uri", None) or tracker.settings.tracking_uri
    with tempfile.TemporaryDirectory(prefix="wb-load-") as tmp:
        local = tracker._call(f"download {label}", mlflow.artifacts.download_artifacts, artifact_uri=uri,
                              dst_path=tmp, tracking_uri=tracker.settings.tracking_uri, registry_uri=registry)
        return load_model_dir(Path(local), label)
