"""Resource drift of a served model: latency p50 / p99 and rows per second over time, against its export baseline.

The baseline is what the export measured on the bundle's own serving path (one row: JSON → tensors
→ onnxruntime, see :func:`core.deploy.latency.serving_baseline`); the log's ``latency_ms`` is the same
path inside the server. Latency percentiles are over one-row requests only, because a 1,000-row
request is not slower *per request* for a bad reason; throughput counts every row (scaled up by the
log's sampling rate). A finding is raised when the served p99 rises above the baseline p99 by more
than ``p99_rise`` (a fraction: 1.0 = more than doubled), the default unless the page or the charter's
``extra["served_p99_rise"]`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DEFAULT_P99_RISE = 1.0  # p99 more than doubles: well above run-to-run noise of a sub-millisecond path
CHARTER_KEY = "served_p99_rise"
_BUCKETS_S = (1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400)


@dataclass(frozen=True)
class ResourcePoint:
    """One time bucket of served traffic."""

    start: Any  # pandas Timestamp (UTC)
    requests: int
    rows: int
    rows_per_s: float
    p50_ms: float | None  # one-row requests only (None: none in the bucket)
    p99_ms: float | None


@dataclass(frozen=True)
class ResourceDrift:
    """Served latency and throughput against the export's baseline; ``finding`` is the sentence to show."""

    points: tuple[ResourcePoint, ...]
    bucket_s: int
    requests: int
    rows: int
    single_requests: int
    rows_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    baseline_p50_ms: float | None
    baseline_p99_ms: float | None
    p99_rise: float
    drifted: bool
    finding: str

    @property
    def ratio(self) -> float | None:
        if self.p99_ms is None or not self.baseline_p99_ms:
            return None
        return self.p99_ms / self.baseline_p99_ms

    def metrics(self) -> dict[str, float]:
        """Flat numbers for the check run in MLflow."""
        out = {"served_rows": float(self.rows), "served_requests": float(self.requests),
               "served_rows_per_s": self.rows_per_s, "served_latency_drift": 1.0 if self.drifted else 0.0}
        for key in ("p50_ms", "p99_ms", "baseline_p50_ms", "baseline_p99_ms"):
            value = getattr(self, key)
            if value is not None:
                out[f"served_{key}"] = float(value)
        return out

    def table(self) -> list[dict[str, Any]]:
        """One row per bucket for display."""
        return [{"from (UTC)": p.start.strftime("%Y-%m-%d %H:%M:%S"), "requests": p.requests, "rows": p.rows,
                 "rows/s": round(p.rows_per_s, 2), "p50 ms": p.p50_ms, "p99 ms": p.p99_ms} for p in self.points]

    def lines(self) -> list[str]:
        """The CLI's text."""
        fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        head = (f"served: {self.requests:,} requests, {self.rows:,} rows, {self.rows_per_s:.2f} rows/s; one-row "
                f"latency p50 {fmt(self.p50_ms)} ms, p99 {fmt(self.p99_ms)} ms (export baseline p50 "
                f"{fmt(self.baseline_p50_ms)}, p99 {fmt(self.baseline_p99_ms)} ms)")
        out = [head, f"resource drift: {'YES' if self.drifted else 'no'} — {self.finding}"]
        out += [f"  {r['from (UTC)']}  {r['requests']:>7,} req {r['rows']:>8,} rows {r['rows/s']:>9.2f} rows/s "
                f"p50 {fmt(r['p50 ms'])} p99 {fmt(r['p99 ms'])}" for r in self.table()[-24:]]
        return out


def p99_rise_from(charter: Any, page_value: float | None = None) -> float:
    """The threshold: the page's value, else the charter's ``extra["served_p99_rise"]``, else the default."""
    if page_value is not None:
        return _check_rise(page_value)
    extra = dict(getattr(charter, "extra", None) or {})
    return _check_rise(extra[CHARTER_KEY]) if CHARTER_KEY in extra else DEFAULT_P99_RISE


def _check_rise(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if not 0 < x <= 100:
        raise MonitorError(f"The p99 latency rise threshold must be a fraction in (0, 100] (1.0 = p99 more than "
                           f"doubles). Got {value!r} instead.")
    return x


def _bucket(span_s: float) -> int:
    for b in _BUCKETS_S:
        if span_s / b <= 30:
            return b
    return _BUCKETS_S[-1]


def resource_drift(log: pd.DataFrame, *, p99_rise: float | None = None, baseline: dict | None = None) -> ResourceDrift:
    """Latency and throughput of :func:`core.monitor.served.read_served`'s rows, per time bucket and overall."""
    import numpy as np
    import pandas as pd

    rise = DEFAULT_P99_RISE if p99_rise is None else _check_rise(p99_rise)
    base = baseline if baseline is not None else (log.attrs.get("latency_baseline") or {})
    b50, b99 = base.get("p50_ms"), base.get("p99_ms")
    sample = float(log.attrs.get("sample", 1.0) or 1.0)
    # one entry per request: its rows share a latency; (id, time) because clients may reuse an id
    reqs = log.drop_duplicates(["request_id", "served_at"])[["served_at", "latency_ms", "request_rows"]]
    first, last = log["served_at"].min(), log["served_at"].max()
    span = max(1.0, (last - first).total_seconds())
    width = _bucket(span)
    start = first.floor(f"{width}s")
    key = ((log["served_at"] - start).dt.total_seconds() // width).astype(int)
    rkey = ((reqs["served_at"] - start).dt.total_seconds() // width).astype(int)
    single = reqs[reqs["request_rows"] == 1]
    skey = rkey[single.index]
    points = []
    for k in sorted(set(key)):
        lat = single.loc[skey[skey == k].index, "latency_ms"].to_numpy()
        n_rows = int((key == k).sum() / sample)
        points.append(ResourcePoint(start + pd.Timedelta(seconds=int(k) * width), int((rkey == k).sum()), n_rows,
                                    n_rows / width, float(np.percentile(lat, 50)) if len(lat) else None,
                                    float(np.percentile(lat, 99)) if len(lat) else None))
    lat = single["latency_ms"].to_numpy()
    p50 = float(np.percentile(lat, 50)) if len(lat) else None
    p99 = float(np.percentile(lat, 99)) if len(lat) else None
    rows = int(len(log) / sample)
    if p99 is None:
        drifted, finding = False, "no one-row requests in the window, so latency is not compared with the baseline."
    elif not b99:
        drifted, finding = False, ("the export recorded no latency baseline (exported before baselines were kept); "
                                   "re-export to compare.")
    else:
        drifted = p99 > b99 * (1 + rise)
        verb = "more than" if drifted else "within"
        finding = (f"served p99 {p99:.3f} ms is {p99 / b99:.1f}× the export baseline {b99:.3f} ms — {verb} the "
                   f"allowed rise of +{rise:.0%} (over {len(lat):,} one-row requests).")
        if drifted:
            finding += " The served model got slower: check the host's load, memory and the request mix."
    return ResourceDrift(tuple(points), width, len(reqs), rows, len(single), rows / span, p50, p99, b50, b99, rise,
                         drifted, finding)
