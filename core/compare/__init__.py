"""The Compare stage: models side by side, the promotion gate, shadow and A/B analysis.

Modules (each imports its heavy libraries inside functions, so ``import core.compare`` is light):

* :mod:`core.compare.evaluate` — metrics, curves, resources and importances of fitted models
  on one evaluation table (:class:`Evaluation`), plus per-group fairness;
* :mod:`core.compare.runs` — the project's runs as one table, filters, "only what differs";
* :mod:`core.compare.gate` — champion / challenger gate, promotion with alias moves, history;
* :mod:`core.compare.gate_metric` — which metric a gate uses (never switched silently), the form's defaults;
* :mod:`core.compare.charter_rules` — the charter's ``business_cost`` KPI and fairness limit;
* :mod:`core.compare.shadow` — replay a batch through champion and challengers;
* :mod:`core.compare.abtest` — two-proportion z-test, Welch's t-test, bootstrap CI, power;
* :mod:`core.compare.figures` — Plotly figures of an Evaluation (page and logged artifacts);
* :mod:`core.compare.commands` — ``python -m core compare`` / ``promote``.
"""
