"""Search spaces: parsing, validation sentences, grid derivation, suggestion; study config checks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import TuneError
from core.models import FAMILIES, default_params
from core.tune.metrics import get_metric
from core.tune.space import (
    ParamSpec,
    default_space,
    grid_points,
    grid_size,
    parse_space,
    space_to_json,
    suggest,
    validate_space,
)
from core.tune.study import StudyConfig


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_default_spaces_are_valid_and_use_only_known_params(family: str, task: str) -> None:
    space = default_space(family, task)
    assert validate_space(space, family, task) == space
    assert set(space) <= set(default_params(family, task))
    assert parse_space(space_to_json(space)) == space


def test_short_forms_and_full_forms_parse() -> None:
    space = parse_space('{"C": {"kind": "float", "low": 0.01, "high": 10, "log": true},'
                        ' "gamma": ["scale", "auto"], "max_iter": 300}')
    assert space["C"] == ParamSpec("C", "float", 0.01, 10.0, True)
    assert space["gamma"].kind == "categorical" and space["gamma"].choices == ("scale", "auto")
    assert space["max_iter"].kind == "fixed" and space["max_iter"].value == 300


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{}", "search space is empty"),
        ('{"C": {"kind": "float", "low": 5, "high": 1}}', "low > high (5 > 1)"),
        ('{"C": {"kind": "float", "low": 0, "high": 1, "log": true}}', "log range that includes 0"),
        ('{"C": {"kind": "float", "low": -1, "high": 1, "log": true}}', "log range that includes -1"),
        ('{"gamma": {"kind": "categorical", "choices": []}}', "no choices"),
        ('{"C": 1.0}', "fixed, so every trial would be the same"),
        ('{"C": {"kind": "float", "low": 1}}', "needs numeric 'low' and 'high'"),
        ('{"C": {"kind": "bogus"}}', "needs a kind"),
        ('{"n_neighbors": {"kind": "int", "low": 1.5, "high": 4}}', "whole numbers"),
        ('[1, 2]', "must be a JSON object"),
        ('{"C": ', "not valid JSON"),
    ],
)
def test_bad_spaces_give_one_sentence(text: str, needle: str) -> None:
    with pytest.raises(TuneError) as info:
        validate_space(parse_space(text))
    message = str(info.value)
    assert needle in message
    assert "\n" not in message and message.endswith(".")


def test_unknown_parameter_for_family_is_refused() -> None:
    with pytest.raises(TuneError, match="does not use parameter"):
        validate_space(parse_space('{"n_neighbors": {"kind": "int", "low": 1, "high": 5}}'), "linear", "classification")


def test_grid_is_finite_and_says_its_size() -> None:
    space = parse_space('{"C": {"kind": "float", "low": 0.01, "high": 100, "log": true},'
                        ' "n_neighbors": {"kind": "int", "low": 1, "high": 2},'
                        ' "weights": ["uniform", "distance"], "fixed": 3}')
    grid = grid_points(space)
    assert grid["C"] == pytest.approx([0.01, 1.0, 100.0])  # geometric on a log range
    assert grid["n_neighbors"] == [1, 2]  # ints rounded and de-duplicated
    assert grid["weights"] == ["uniform", "distance"]
    assert "fixed" not in grid
    assert grid_size(space) == 3 * 2 * 2


@given(low=st.floats(1e-6, 1e3), span=st.floats(0, 1e3), log=st.booleans())
def test_grid_points_stay_inside_the_range(low: float, span: float, log: bool) -> None:
    space = {"x": ParamSpec("x", "float", low, low + span, log)}
    points = grid_points(space)["x"]
    assert all(low * (1 - 1e-9) <= p <= (low + span) * (1 + 1e-9) for p in points)
    assert 1 <= len(points) <= 3


def test_suggest_follows_the_space_with_a_real_trial() -> None:
    import optuna

    space = parse_space('{"C": {"kind": "float", "low": 0.1, "high": 1, "log": true},'
                        ' "weights": ["uniform", "distance"], "n": {"kind": "int", "low": 2, "high": 4}, "k": 7}')
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        trial = study.ask()
        params = suggest(trial, space)
        assert 0.1 <= params["C"] <= 1 and params["weights"] in ("uniform", "distance") and 2 <= params["n"] <= 4
        assert params["k"] == 7 and "k" not in trial.params  # fixed values are not searched
        study.tell(trial, 0.0)


def test_metric_direction_and_task() -> None:
    assert get_metric("log_loss", "classification").direction == "minimize"
    assert get_metric("r2", "regression").direction == "maximize"
    with pytest.raises(TuneError, match="is for regression"):
        get_metric("rmse", "classification")


def test_study_config_round_trip_and_checks() -> None:
    cfg = StudyConfig.create(project="p", data_run_id="a" * 32, target="y", task="regression", family="hgb",
                             study_name="s1", n_trials=5, sampler="grid", pruner="hyperband")
    assert cfg.metric == "rmse" and cfg.direction == "minimize"
    assert StudyConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.space) == json.loads(space_to_json(default_space("hgb", "regression")))
    for bad, needle in [({"sampler": "anneal"}, "sampler"), ({"pruner": "x"}, "pruner"), ({"cv_folds": 1}, "folds"),
                        ({"n_trials": 0}, "budget"), ({"study_name": "a b"}, "study name")]:
        with pytest.raises(TuneError, match=needle):
            StudyConfig.create(project="p", data_run_id="a" * 32, target="y", task="regression", family="hgb",
                               **{"study_name": "s1", **bad})
