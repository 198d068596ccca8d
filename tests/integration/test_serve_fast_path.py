"""The bundle server's whole-column fast path gives exactly what the cell-by-cell contract check gives.

The fast path (numpy over a whole block of columns) hands anything unusual to the cell-by-cell
path; this test feeds both random mixtures of good and bad cells and compares feeds, missing
counts and the 400 sentence.
"""

from __future__ import annotations

import math
import random
import sys

import numpy as np
import pytest

from tests.integration.test_bundle_server import _bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    folder = _bundle(tmp_path_factory.mktemp("fast"), "classification")
    sys.path.insert(0, str(folder))
    try:
        import serve
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("serve", None)
    return serve, serve.Model(str(folder / "model.onnx"), str(folder / "schema.json"), threads=2)


GOOD_NUMBERS = [1.5, -0.25, 0, 7, None, 1e300, 41.5]
BAD_NUMBERS = [True, False, "1.5", "long", [1], {"a": 1}, math.nan, math.inf, -math.inf, 10**400]
GOOD_TEXT = ["Dream", "Biscoe", "", None, "unknown island"]
ODD_TEXT = [3, 2.5, True, [1], {"a": 1}]  # numbers and booleans are converted with str(); nested cells refused


def _outcome(serve, convert, values):  # noqa: ANN001, ANN202
    try:
        feeds, missing = convert(values)
    except serve.BadRequest as err:
        return ("400", str(err))
    cells = {k: (v.dtype, v.shape, ["NaN" if x != x else x for x in v.ravel().tolist()]) for k, v in feeds.items()}
    return ("ok", cells, missing)


def test_fast_path_agrees_with_the_cell_by_cell_check(model) -> None:  # noqa: ANN001
    serve, m = model
    rng = random.Random(0)
    fast = 0
    for trial in range(400):
        n = rng.choice([1, 1, 2, 5, 40])
        bad = rng.random() < 0.5
        values = {}
        for name, kind, _ in m.inputs:
            good, odd = (GOOD_TEXT, ODD_TEXT) if kind == "string" else (GOOD_NUMBERS, BAD_NUMBERS)
            values[name] = [rng.choice(odd if bad and rng.random() < 0.1 else good) for _ in range(n)]
        slow = _outcome(serve, m._cell_by_cell, values)
        assert _outcome(serve, m.feeds, values) == slow, (trial, values)
        fast += m._whole_columns(values) is not None
        if slow[0] == "ok":
            answer = m.run(m.feeds(values)[0])
            assert len(answer["predictions"]) == n and np.isfinite(answer["probabilities"]).all()
    assert 100 < fast < 400  # both paths were exercised


def test_a_nan_or_inf_passed_in_process_is_refused_not_taken_as_missing(model) -> None:  # noqa: ANN001
    serve, m = model
    for value in (math.nan, math.inf):
        with pytest.raises(serve.BadRequest, match="column 'length' has a number too large"):
            m.predict({"rows": [{"length": value, "depth": 17.2, "island": "Dream"}]})
    assert m.predict({"rows": [{"length": None, "depth": 17.2, "island": None}]})["predictions"]


def test_one_row_and_batches_use_their_own_sessions_and_agree(model) -> None:  # noqa: ANN001
    _, m = model
    assert m.single is not m.session
    rows = [{"length": 30 + i, "depth": 15 + i % 5, "island": ["Dream", "Biscoe", None][i % 3]} for i in range(30)]
    batch = m.predict({"rows": rows})
    singles = [m.predict({"rows": [r]}) for r in rows]
    assert batch["predictions"] == [s["predictions"][0] for s in singles]
    assert np.allclose(batch["probabilities"], [s["probabilities"][0] for s in singles], atol=1e-6)
