"""Which strategy saves the most labels? Replay a fully labelled table.

For each seed: a fixed stratified held-out split (25 %), ``init`` random starting
labels (at least one per class when possible), then rounds of ``batch`` queries up
to ``budget`` labels — once with the chosen strategy and once with random sampling
from the *same* split and starting labels. Accuracy on the held-out split after
each round; curves are averaged over seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.errors import LabelError
from core.label.labellog import CurvePoint
from core.label.query import STRATEGIES, fit_learner, query_batch


@dataclass(frozen=True)
class SimulationResult:
    """Mean learning curves of ``strategy`` and of the random baseline on the same splits."""

    strategy: str
    learner: str
    curve: tuple[CurvePoint, ...]
    random: tuple[CurvePoint, ...]
    seeds: int
    budget: int
    batch: int
    init: int

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "learner": self.learner, "seeds": self.seeds, "budget": self.budget,
                "batch": self.batch, "init": self.init,
                "curve": [asdict(p) for p in self.curve], "random": [asdict(p) for p in self.random]}


def check_params(n_rows: int, n_classes: int, strategy: str, budget: int, batch: int, init: int, seeds: int) -> None:
    if strategy not in STRATEGIES:
        raise LabelError(f"The strategy must be one of {', '.join(STRATEGIES)}. Got {strategy!r} instead.")
    if n_classes < 2:
        raise LabelError(f"The target needs at least two classes to simulate labelling; it has {n_classes}.")
    train_rows = int(n_rows * 0.75)
    for name, value, lo in (("budget", budget, 2), ("batch", batch, 1), ("init", init, 2), ("seeds", seeds, 1)):
        if not isinstance(value, int) or value < lo:
            raise LabelError(f"The {name!r} parameter must be an int ≥ {lo}. Got {value!r} instead.")
    if init > budget:
        raise LabelError(f"The 'init' labels ({init}) must not exceed the 'budget' ({budget}).")
    if budget > train_rows:
        raise LabelError(f"The 'budget' ({budget}) is larger than the {train_rows} rows left after holding out "
                         f"25 % for testing; use a budget ≤ {train_rows}.")


def _initial(y: np.ndarray, init: int, rng: np.random.Generator) -> np.ndarray:
    classes = np.unique(y)
    first = [rng.choice(np.flatnonzero(y == c)) for c in rng.permutation(classes)][:init]
    rest = np.setdiff1d(np.arange(len(y)), first)
    more = rng.choice(rest, size=init - len(first), replace=False) if init > len(first) else []
    return np.concatenate([np.asarray(first, dtype=int), np.asarray(more, dtype=int)])


def _run(X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray, start: np.ndarray, strategy: str,
         budget: int, batch: int, learner: str, seed: int, diverse: bool = True) -> list[CurvePoint]:
    labelled = np.zeros(len(y), dtype=bool)
    labelled[start] = True
    points = []
    rnd = 0
    while True:
        idx = np.flatnonzero(labelled)
        model = fit_learner(X[idx], y[idx], learner, seed) if len(np.unique(y[idx])) > 1 else None
        acc = float((model.predict(Xt) == yt).mean()) if model is not None else float((yt == y[idx][0]).mean())
        points.append(CurvePoint(int(len(idx)), acc))
        if len(idx) >= budget:
            return points
        pool = np.flatnonzero(~labelled)
        n = min(batch, budget - len(idx), len(pool))
        q = query_batch(X[pool], X[idx], y[idx], strategy=strategy, n=n, learner=learner,
                        seed=seed * 1000 + rnd, model=model if strategy != "committee" else None, diverse=diverse)
        labelled[pool[q.indices]] = True
        rnd += 1


def simulate(X: np.ndarray, y: Sequence[Any], *, strategy: str, budget: int, batch: int = 10, init: int = 10,
             seeds: int = 3, learner: str = "logreg", with_random: bool = True, diverse: bool = True,
             on_progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Replay labelling on a fully labelled table: ``strategy`` against random on the same splits.

    ``with_random=False`` skips the baseline (``random`` is then empty), for callers that run it once.

    Raises:
        LabelError: bad parameters, one class, missing values.
    """
    from sklearn.model_selection import train_test_split

    X = np.asarray(X, dtype=float)
    y = np.asarray([str(v) for v in y])
    if not np.isfinite(X).all():
        raise LabelError("The features have missing values; fill them in the Data stage before simulating.")
    check_params(len(y), len(np.unique(y)), strategy, budget, batch, init, seeds)
    curves, randoms = [], []
    for s in range(seeds):
        counts = np.unique(y, return_counts=True)[1]
        strat = y if counts.min() >= 2 else None
        tr, te = train_test_split(np.arange(len(y)), test_size=0.25, random_state=s, stratify=strat)
        start = _initial(y[tr], init, np.random.default_rng(s))
        curves.append(_run(X[tr], y[tr], X[te], y[te], start, strategy, budget, batch, learner, s, diverse))
        if with_random:
            randoms.append(_run(X[tr], y[tr], X[te], y[te], start, "random", budget, batch, learner, s)
                           if strategy != "random" else curves[-1])
        if on_progress:
            on_progress(s + 1, seeds)
    return SimulationResult(strategy, learner, _mean(curves), _mean(randoms), seeds, budget, batch, init)


def _mean(curves: list[list[CurvePoint]]) -> tuple[CurvePoint, ...]:
    if not curves:
        return ()
    n = min(len(c) for c in curves)
    return tuple(CurvePoint(curves[0][i].labels, float(np.mean([c[i].accuracy for c in curves]))) for i in range(n))


def labels_to_reach(curve: Sequence[CurvePoint], accuracy: float) -> int | None:
    """The fewest labels at which ``curve`` reaches ``accuracy`` (None if it never does)."""
    return next((p.labels for p in curve if p.accuracy >= accuracy - 1e-12), None)
