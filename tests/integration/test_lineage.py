"""Lineage graph over real runs: upstream to the raw data and downstream to later stages."""

from __future__ import annotations

from core.lineage import lineage_graph


def test_lineage_walks_both_ways(tracker) -> None:
    raw = tracker.start_run("p", "data", name="raw")
    clean = tracker.start_run("p", "data", name="clean", inputs=[raw])
    study = tracker.start_run("p", "tune", name="study", inputs=[clean])
    trial = tracker.start_run("p", "tune", name="trial", inputs=[clean], parent_run_id=study)
    export = tracker.start_run("p", "deploy", name="export", inputs=[study])
    check = tracker.start_run("p", "monitor", name="check", inputs=[clean, study])
    unrelated = tracker.start_run("p", "data", name="other")
    g = lineage_graph(tracker, "p", study)
    ids = {n.run_id for n in g.nodes}
    assert ids == {raw, clean, study, export, check}
    assert trial not in ids and unrelated not in ids
    assert set(g.edges) == {(raw, clean), (clean, study), (study, export), (study, check), (clean, check)}
    focus = [n for n in g.nodes if n.focus]
    assert [n.run_id for n in focus] == [study] and focus[0].page == "pages/tune.py"
    dot = g.to_dot()
    assert dot.startswith("digraph") and f'"{raw}" -> "{clean}"' in dot
