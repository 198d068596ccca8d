"""Benchmark: load + profile against plain pandas (``read_csv`` + ``describe``).

Run ``python bench/bench_data.py`` (100k and 1M rows × 20 mixed columns) or
``--quick`` (100k only). Every case runs in its own subprocess so peak memory
(``ru_maxrss``) is that case's alone; the table prints seconds, the ratio
workbench / pandas, and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 2.0


def generate_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` × 20 columns of mixed types (ints, floats, categories, text, dates, bools, blanks, tokens)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def with_blanks(values: np.ndarray, share: float, token: str = "") -> np.ndarray:
        out = values.astype(object)
        out[rng.random(rows) < share] = token
        return out

    cities = np.array([f"city_{i}" for i in range(1000)])
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "age": rng.integers(18, 90, rows),
            "visits": rng.poisson(3, rows),
            "score_int": with_blanks(rng.integers(0, 1000, rows), 0.05),
            "year": rng.integers(2000, 2025, rows),
            "income": rng.lognormal(10, 1, rows).round(2),
            "height": rng.normal(170, 10, rows).round(1),
            "weight": with_blanks(rng.normal(70, 12, rows).round(1), 0.05),
            "ratio": with_blanks(rng.random(rows).round(4), 0.10),
            "temp": rng.normal(15, 8, rows).round(2),
            "colour": rng.choice(["red", "green", "blue", "black", "white"], rows),
            "grade": rng.choice([f"g{i}" for i in range(20)], rows),
            "city": with_blanks(rng.choice(cities, rows), 0.03),
            "segment": rng.choice([f"seg_{i}" for i in range(100)], rows),
            "email": [f"user{i}@example.org" for i in rng.integers(0, rows, rows)],
            "comment": [f"note {i} about item {j}" for i, j in zip(rng.integers(0, 10**6, rows), rng.integers(0, 50, rows))],
            "signup": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
            "last_seen": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), unit="s"),
            "active": rng.random(rows) < 0.7,
            "balance_na": with_blanks(rng.normal(100, 30, rows).round(2), 0.05, "NA"),
        }
    )
    frame.to_csv(path, index=False)
