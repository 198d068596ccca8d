"""Model families shared by Label, Tune, Compare, Deploy and Retrain.

Every model the workbench trains is a scikit-learn ``Pipeline`` that takes the
*raw feature columns* of a dataset version as a DataFrame: a ``ColumnTransformer``
imputes and scales numbers and one-hot encodes categories, then the estimator.
So a registered model can be applied to any table with the same columns, and
Deploy can convert the whole pipeline to ONNX.

Registered model versions carry these tags (see :func:`model_tags`):
``workbench.features`` (JSON list), ``workbench.target``, ``workbench.task``,
``workbench.family``, ``workbench.data_version`` (run id), ``workbench.params`` (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from core.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Task = Literal["classification", "regression"]
FAMILIES = ("linear", "rf", "hgb", "svm", "knn", "mlp")
FAMILY_NAMES = {
    "linear": "Linear / logistic",
    "rf": "Random forest",
    "hgb": "Histogram gradient boosting",
    "svm": "Support vector machine",
    "knn": "k-nearest neighbours",
    "mlp": "Multi-layer perceptron",
}


@dataclass(frozen=True)
class FeatureSpec:
    """Which raw columns a model reads, split by kind (``excluded``: columns left out by default, with why)."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    excluded: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def infer_task(y: pd.Series) -> Task:
    """Classification for non-numeric targets or numeric ones with ≤ 20 distinct integer values."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    values = y.dropna()
    if values.nunique() <= 20 and (values % 1 == 0).all():
        return "classification"
    return "regression"


def feature_spec(frame: pd.DataFrame, target: str | None = None, columns: Sequence[str] | None = None) -> FeatureSpec:
    """Split the feature columns into numeric and categorical.

    By default (``columns`` None) every column but the target, less the ones that leak
    (:func:`core.data.leakage.suggest_features`: identifier-like columns and columns that predict
    the target perfectly on these rows — pass the training rows), listed in ``excluded``. Named
    ``columns`` are used as given.

    Raises:
        DataError: no usable feature column, or a named column does not exist.
    """
    import pandas as pd

    excluded: dict[str, str] = {}
    if columns:
        cols = list(columns)
    else:
        from core.data.leakage import suggest_features

        advice = suggest_features(frame, target)
        cols = [c for c in advice.features if c != target]
        excluded = {c: why for c, why in advice.excluded.items() if c != target}
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"These feature columns are not in the table: {', '.join(map(str, missing[:10]))}.")
    numeric, categorical = [], []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            categorical.append(c)
        elif pd.api.types.is_numeric_dtype(s):
            numeric.append(c)
        elif pd.api.types.is_datetime64_any_dtype(s):
            continue  # timestamps are not model features here
        elif s.nunique(dropna=True) <= max(50, int(0.05 * len(s))):
            categorical.append(c)
    if not numeric and not categorical:
        raise DataError("No usable feature column: features must be numeric or categorical (≤ 50 distinct values)."
                        + (f" Left out as leaks: {', '.join(map(repr, list(excluded)[:6]))}; name the features to "
                           "use them." if excluded else ""))
    return FeatureSpec(tuple(numeric), tuple(categorical), excluded)


def default_params(family: str, task: Task) -> dict[str, Any]:
    """Sensible defaults per family (what Tune's search spaces are centred on)."""
    return {
        "linear": {"C": 1.0} if task == "classification" else {"alpha": 1.0},
        "rf": {"n_estimators": 100, "max_depth": None, "min_samples_leaf": 1},
        "hgb": {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31},
        "svm": {"C": 1.0, "gamma": "scale"},
        "knn": {"n_neighbors": 5, "weights": "uniform"},
        "mlp": {"hidden_layer_sizes": 64, "alpha": 1e-4, "learning_rate_init": 1e-3},
    }[family]


def make_estimator(family: str, task: Task, params: Mapping[str, Any] | None = None, seed: int = 0) -> Any:
    """The bare scikit-learn estimator for ``family`` with ``params`` applied."""
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm

    if family not in FAMILIES:
        raise DataError(f"The model family must be one of {', '.join(FAMILIES)}. Got {family!r} instead.")
    p = {**default_params(family, task), **dict(params or {})}
    clf = task == "classification"
    if family == "linear":
        if clf:
            return linear_model.LogisticRegression(C=float(p.get("C", 1.0)), max_iter=2000)
        return linear_model.Ridge(alpha=float(p.get("alpha", 1.0)))
    if family == "rf":
        cls = ensemble.RandomForestClassifier if clf else ensemble.RandomForestRegressor
        return cls(n_estimators=int(p["n_estimators"]), max_depth=p.get("max_depth"),
                   min_samples_leaf=int(p.get("min_samples_leaf", 1)), random_state=seed, n_jobs=1)
    if family == "hgb":
        cls = ensemble.HistGradientBoostingClassifier if clf else ensemble.HistGradientBoostingRegressor
        return cls(learning_rate=float(p["learning_rate"]), max_iter=int(p["max_iter"]),
                   max_leaf_nodes=int(p["max_leaf_nodes"]), random_state=seed)
    if family == "svm":
        if clf:
            return svm.SVC(C=float(p["C"]), gamma=p.get("gamma", "scale"), probability=True, random_state=seed)
        return svm.SVR(C=float(p["C"]), gamma=p.get("gamma", "scale"))
    if family == "knn":
        cls = neighbors.KNeighborsClassifier if clf else neighbors.KNeighborsRegressor
        return cls(n_neighbors=int(p["n_neighbors"]), weights=p.get("weights", "uniform"))
    hidden = p.get("hidden_layer_sizes", 64)
    hidden = tuple(hidden) if isinstance(hidden, (list, tuple)) else (int(hidden),)
    cls = neural_network.MLPClassifier if clf else neural_network.MLPRegressor
    return cls(hidden_layer_sizes=hidden, alpha=float(p["alpha"]), learning_rate_init=float(p["learning_rate_init"]),
               max_iter=500, early_stopping=False, random_state=seed)


def make_preprocessor(spec: FeatureSpec) -> Any:
    """Impute + scale numbers, impute + one-hot categories (unknown categories ignored)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if spec.numeric:
        parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                      list(spec.numeric)))
    if spec.categorical:
        parts.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), list(spec.categorical)))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def build_pipeline(family: str, task: Task, spec: FeatureSpec, params: Mapping[str, Any] | None = None,
                   seed: int = 0) -> Any:
    """Preprocessing + estimator as one Pipeline over the raw feature columns."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("prep", make_preprocessor(spec)), ("model", make_estimator(family, task, params, seed))])


def prepare_xy(frame: pd.DataFrame, target: str, spec: FeatureSpec) -> tuple[pd.DataFrame, pd.Series]:
    """Feature frame (categoricals as strings) and target, rows with a missing target dropped."""
    if target not in frame.columns:
        raise DataError(f"The target column {target!r} is not in the table.")
    data = frame[frame[target].notna()]
    if data.empty:
        raise DataError(f"The target column {target!r} has no values.")
    X = data[spec.columns].copy()
    for c in spec.categorical:
        X[c] = X[c].astype("object").where(X[c].notna(), None).map(lambda v: v if v is None else str(v))
    return X, data[target]


def model_tags(*, spec: FeatureSpec, target: str, task: Task, family: str, data_version: str,
               params: Mapping[str, Any]) -> dict[str, str]:
    """The tags every registered model version carries (see module docstring)."""
    return {
        "workbench.features": json.dumps(spec.columns),
        "workbench.numeric": json.dumps(list(spec.numeric)),
        "workbench.categorical": json.dumps(list(spec.categorical)),
        "workbench.target": target,
        "workbench.task": task,
        "workbench.family": family,
        "workbench.data_version": data_version,
        "workbench.params": json.dumps(dict(params), default=str),
    }


def spec_from_tags(tags: Mapping[str, str]) -> FeatureSpec:
    """Rebuild the FeatureSpec of a registered model from its tags."""
    try:
        return FeatureSpec(tuple(json.loads(tags["workbench.numeric"])), tuple(json.loads(tags["workbench.categorical"])))
    except (KeyError, ValueError) as err:
        raise DataError("This model version has no workbench feature tags; it was not trained by the workbench.") from err
