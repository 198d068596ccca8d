"""Autoencoder drift: a small network that reproduces the reference's numeric features.

An ``MLPRegressor`` learns to map the reference's scaled numeric features onto themselves. It is
fitted on one part of the reference; the other part (rows it never saw) sets the error threshold, the
95th percentile of their reconstruction error, so on data like the reference about 5 % of rows exceed
it. On a batch, the share of rows above that threshold is tested against 5 % with a one-sided binomial
test; a small p-value says the batch holds more unfamiliar rows than the reference would (drift), and
the columns whose reconstruction error rose most say where.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import MonitorError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

MIN_REFERENCE_ROWS = 100
QUANTILE = 0.95
ALPHA = 0.05
CALIBRATION_SHARE = 0.5  # half the reference fits the network, half (unseen by it) sets the threshold
MIN_EFFECT = 0.02  # drift also needs the share ≥ 2 points above 5 %: on a huge batch the binomial test alone
# would alarm on the threshold's own sampling noise (it is estimated from a few thousand rows)
MAX_ROWS = 2000  # per half: a bigger reference is sampled (seeded), so a check on 1M rows stays seconds


@dataclass(frozen=True)
class AutoencoderResult:
    """The batch's share of rows above the reference's error threshold, and its test."""

    share: float  # current rows whose reconstruction error exceeds the threshold
    expected: float  # 1 − QUANTILE: the share on data like the reference
    p_value: float  # one-sided binomial test of ``share`` > ``expected``
    threshold: float  # the 95th percentile of the held-out reference rows' error
    drifted: bool
    n_rows: int
    top_columns: tuple[tuple[str, float], ...]  # column, rise of its mean squared error (scaled units)
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Autoencoder:
    """A fitted autoencoder and its calibration (reusable on many batches, e.g. the periods of a timeline)."""

    columns: tuple[str, ...]
    medians: Any
    scaler: Any
    network: Any
    threshold: float
    calibration_errors: Any  # per column mean squared error on the held-out reference rows

    def errors(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row and column squared reconstruction errors, in scaled units."""
        import numpy as np

        X = self.scaler.transform(_matrix(frame, self.columns, self.medians))
        return np.square(self.network.predict(X).reshape(X.shape) - X)

    def check(self, current: pd.DataFrame, alpha: float = ALPHA) -> AutoencoderResult:
        """Test ``current`` against the reference's threshold."""
        from scipy.stats import binomtest

        missing = [c for c in self.columns if c not in current.columns]
        if missing:
            raise MonitorError(f"The autoencoder reads columns the batch does not have: {', '.join(missing[:5])}.")
        if current.empty:
            raise MonitorError("The batch has no rows, so the autoencoder check has nothing to test.")
        errors = self.errors(current)
        above = int((errors.mean(axis=1) > self.threshold).sum())
        n = len(errors)
        expected = 1 - QUANTILE
        p = float(binomtest(above, n, expected, alternative="greater").pvalue)
        rise = errors.mean(axis=0) - self.calibration_errors
        order = sorted(range(len(self.columns)), key=lambda i: -rise[i])
        top = tuple((self.columns[i], float(rise[i])) for i in order[:3])
        drifted = p < alpha and above / n >= expected + MIN_EFFECT
        return AutoencoderResult(above / n, expected, p, float(self.threshold), bool(drifted), n, top, self.columns)


def _matrix(frame: pd.DataFrame, columns: Sequence[str], medians: Any) -> np.ndarray:
    import numpy as np
    import pandas as pd

    X = frame[list(columns)].apply(pd.to_numeric, errors="coerce").replace([np.inf, -np.inf], np.nan)
    return X.fillna(medians).to_numpy(dtype=float)


def numeric_columns(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[str]:
    """The numeric (non-boolean) columns the autoencoder reads."""
    import pandas as pd

    names = list(columns) if columns is not None else list(frame.columns)
    return [c for c in names if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].notna().any()]


def fit_autoencoder(reference: pd.DataFrame, columns: Sequence[str] | None = None, *, seed: int = 0) -> Autoencoder:
    """Fit on half of ``reference``'s rows and calibrate the threshold on the other half.

    Raises:
        MonitorError: fewer than 100 reference rows, or fewer than two numeric columns.
    """
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    cols = numeric_columns(reference, columns)
    if len(reference) < MIN_REFERENCE_ROWS:
        raise MonitorError(f"The autoencoder check needs at least {MIN_REFERENCE_ROWS} reference rows to learn what "
                           f"normal looks like. Got {len(reference)} instead; use a larger reference.")
    if len(cols) < 2:
        raise MonitorError(f"The autoencoder check needs at least two numeric columns. Got {len(cols)}; the "
                           "per-column tests cover this table.")
    order = np.random.default_rng(seed).permutation(len(reference))
    cut = int(len(reference) * (1 - CALIBRATION_SHARE))
    fit_rows, cal_rows = reference.iloc[order[:cut][:MAX_ROWS]], reference.iloc[order[cut:][:MAX_ROWS]]
    medians = fit_rows[cols].apply(lambda s: s.astype(float)).median()
    scaler = StandardScaler().fit(_matrix(fit_rows, cols, medians))
    X = scaler.transform(_matrix(fit_rows, cols, medians))
    # the bottleneck is as wide as the principal components that carry 95 % of the variance: narrow
    # enough that the network must learn how the columns move together, wide enough to reproduce them
    eig = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1]
    share = np.cumsum(eig) / eig.sum() if eig.sum() > 0 else np.ones(len(eig))
    width = int(min(len(cols) - 1, max(1, np.searchsorted(share, 0.95) + 1)))
    # tanh, not relu: a ReLU bottleneck this narrow loses the negative half of a component
    wide = max(8, 2 * len(cols))
    net = MLPRegressor(hidden_layer_sizes=(wide, width, wide), activation="tanh", max_iter=300,
                       learning_rate_init=0.01, random_state=seed, alpha=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, X)
    model = Autoencoder(tuple(cols), medians, scaler, net, 0.0, np.zeros(len(cols)))
    cal = model.errors(cal_rows)
    per_row = cal.mean(axis=1)
    # the finite-sample (conformal) quantile: at most 5 % of new rows like the reference exceed it
    q = min(1.0, np.ceil((len(per_row) + 1) * QUANTILE) / len(per_row))
    threshold = float(np.quantile(per_row, q, method="higher"))
    return Autoencoder(tuple(cols), medians, scaler, net, threshold, cal.mean(axis=0))


def autoencoder_check(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str] | None = None, *,
                      seed: int = 0) -> AutoencoderResult:
    """Fit on the reference and test ``current`` (see the module docstring)."""
    return fit_autoencoder(reference, columns, seed=seed).check(current)
