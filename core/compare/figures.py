"""Plotly figures of Compare results (drawn by the page, saved as HTML artifacts by runs).

Each function takes a result object (or one of its tables) and returns a ``go.Figure``;
none of them computes anything the result does not already hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from plotly.graph_objects import Figure

    from core.compare.evaluate import Evaluation, Fairness

_LAYOUT: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "legend": {"orientation": "h", "y": -0.2}}


def confusion_figure(evaluation: Evaluation, model: str) -> Figure:
    """Confusion matrix heatmap of one model (rows actual, columns predicted)."""
    import plotly.express as px

    cm = evaluation.confusion[model]
    fig = px.imshow(cm.values, x=list(cm.columns), y=list(cm.index), text_auto=True, color_continuous_scale="Blues",
                    labels={"x": "predicted", "y": "actual", "color": "rows"}, title=f"{model}")
    fig.update_layout(**{**_LAYOUT, "coloraxis_showscale": False}, height=320)
    return fig


def curve_figure(points: pd.DataFrame, kind: str) -> Figure:
    """ROC (``kind='roc'``) or precision-recall (``'pr'``) curves of all models overlaid."""
    import plotly.express as px

    data = points.copy()
    data["curve"] = data["model"] + " · " + data["class"] + " (" + data["area"].map(lambda a: f"{a:.3f}") + ")"
    x, y = ("false positive rate", "true positive rate") if kind == "roc" else ("recall", "precision")
    title = "ROC (area = AUC)" if kind == "roc" else "Precision-recall (area = average precision)"
    fig = px.line(data, x="x", y="y", color="curve", labels={"x": x, "y": y}, title=title)
    if kind == "roc":
        fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line={"dash": "dot", "color": "grey"})
    fig.update_layout(**_LAYOUT, height=420)
    return fig


def calibration_figure(points: pd.DataFrame) -> Figure:
    """Reliability diagram: mean predicted probability against observed frequency."""
    import plotly.express as px

    fig = px.line(points, x="mean_predicted", y="fraction_positive", color="model", markers=True,
                  hover_data=["count"], range_x=[0, 1], range_y=[0, 1],
                  labels={"mean_predicted": "mean predicted probability", "fraction_positive": "observed frequency"},
                  title="Calibration")
    fig.add_shape(type="line", x0=0, y0=0, x1=1, y1=1, line={"dash": "dot", "color": "grey"})
    fig.update_layout(**_LAYOUT, height=400)
    return fig


def residual_figure(residuals: pd.DataFrame) -> Figure:
    """Residual (actual − predicted) against predicted, per model."""
    import plotly.express as px

    fig = px.scatter(residuals, x="predicted", y="residual", color="model", opacity=0.6, title="Residuals")
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.update_layout(**_LAYOUT, height=400)
    return fig


def predicted_actual_figure(residuals: pd.DataFrame) -> Figure:
    """Predicted against actual, with the identity line."""
    import plotly.express as px

    fig = px.scatter(residuals, x="actual", y="predicted", color="model", opacity=0.6, title="Predicted vs actual")
    both = residuals[["actual", "predicted"]]
    lo, hi = float(both.min().min()), float(both.max().max())
    fig.add_shape(type="line", x0=lo, y0=lo, x1=hi, y1=hi, line={"dash": "dot", "color": "grey"})
    fig.update_layout(**_LAYOUT, height=400)
    return fig


def importance_figure(importances: pd.DataFrame, top: int = 15) -> Figure:
    """Permutation importance per feature, models side by side (top features by mean)."""
    import plotly.express as px

    order = importances.groupby("feature")["importance"].mean().sort_values(ascending=False).head(top).index
    data = importances[importances["feature"].isin(order)]
    fig = px.bar(data, x="importance", y="feature", color="model", barmode="group", error_x="std", orientation="h",
                 category_orders={"feature": list(order)}, title="Permutation importance (drop in score)")
    fig.update_layout(**_LAYOUT, height=max(300, 40 * len(order) + 120))
    return fig


def fairness_figure(result: Fairness) -> Figure:
    """The metric per group, models side by side; the title names the largest gap."""
    import plotly.express as px

    data = result.table.drop(columns="rows").reset_index().melt(id_vars=result.column, var_name="model",
                                                                 value_name=result.metric)
    title = (f"{result.metric} by {result.column} — largest gap {result.largest_gap:.3f} "
             f"({result.largest_gap_model}, worst group {result.worst_group})")
    fig = px.bar(data, x=result.column, y=result.metric, color="model", barmode="group", title=title)
    fig.update_layout(**_LAYOUT, height=380)
    return fig


MAX_AXES = 8  # more parameter axes than this and their titles overlap at 1280 px
_LABEL_CHARS = 18


def _axis_label(name: str) -> str:
    """A parameter name short enough for an axis title (pipeline prefixes dropped, long names cut)."""
    short = name.rsplit("__", 1)[-1]
    if len(short) <= _LABEL_CHARS:
        return short
    head = (_LABEL_CHARS - 1) // 2  # keep both ends: names often differ only at the end (…_0, …_1)
    return short[:head] + "…" + short[-(_LABEL_CHARS - 1 - head):]


def parallel_figure(params: pd.DataFrame, metric: pd.Series, metric_name: str, title: str = "") -> Figure:
    """Parallel coordinates of numeric params (one family or study), coloured by ``metric``.

    Axes stay readable: at most :data:`MAX_AXES` parameters (those that vary most across the runs), short
    titles, and a log₁₀ axis for a positive parameter spanning two orders of magnitude or more (C,
    learning rate), so its values do not all sit at the bottom.
    """
    import numpy as np
    import plotly.graph_objects as go

    keep = metric.notna()
    values = params.loc[keep]
    spread = {c: values[c].nunique() for c in values.columns if values[c].notna().sum() >= 2}
    columns = sorted(spread, key=lambda c: -spread[c])[:MAX_AXES]
    dims = []
    for col in [c for c in params.columns if c in columns]:
        v = values[col].astype(float)
        label = _axis_label(col)
        if (v.dropna() > 0).all() and v.max() / v.min() >= 100:
            v, label = np.log10(v), f"log₁₀ {label}"
        dims.append({"label": label, "values": v.to_numpy()})
    score = metric[keep].astype(float).to_numpy()
    dims.append({"label": _axis_label(metric_name), "values": score})
    fig = go.Figure(go.Parcoords(line={"color": score, "colorscale": "Viridis", "showscale": True,
                                       "colorbar": {"title": {"text": _axis_label(metric_name)}}},
                                 dimensions=dims, labelangle=-15, labelside="top"))
    fig.update_layout(margin={"l": 60, "r": 60, "t": 90 if title else 70, "b": 20}, height=440,
                      title={"text": title} if title else None)
    return fig


def disagreement_figure(frame: pd.DataFrame, x: str, y: str, flag: str = "disagree") -> Figure:
    """Rows of a shadow replay on two feature axes; disagreeing rows highlighted."""
    import plotly.express as px

    data = frame.assign(**{"where": frame[flag].map({True: "disagree", False: "agree"})})
    fig = px.scatter(data, x=x, y=y, color="where", symbol="where", opacity=0.75,
                     color_discrete_map={"agree": "#9aa5b1", "disagree": "#d62728"},
                     title="Where the models disagree")
    fig.update_layout(**_LAYOUT, height=400)
    return fig


def evaluation_figures(evaluation: Evaluation) -> dict[str, Figure]:
    """The figures worth keeping with a run, by file stem."""
    figs: dict[str, Figure] = {}
    for model in evaluation.confusion:
        figs[f"confusion_{model}"] = confusion_figure(evaluation, model)
    if evaluation.roc is not None:
        figs["roc"] = curve_figure(evaluation.roc, "roc")
    if evaluation.pr is not None:
        figs["precision_recall"] = curve_figure(evaluation.pr, "pr")
    if evaluation.calibration is not None:
        figs["calibration"] = calibration_figure(evaluation.calibration)
    if evaluation.residuals is not None:
        figs["residuals"] = residual_figure(evaluation.residuals)
        figs["predicted_vs_actual"] = predicted_actual_figure(evaluation.residuals)
    if evaluation.importances is not None:
        figs["importance"] = importance_figure(evaluation.importances)
    return figs
