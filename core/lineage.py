"""The chain of runs behind (and after) any run: raw data → cleaned → labels → study → model → export → checks.

Upstream follows ``workbench.inputs`` tags back to the raw data; downstream finds
the runs that list a run among their inputs. The result is a small typed graph
the Home page draws; nothing here knows about Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.tracking import INPUTS_TAG, RunSummary, Tracker

STAGE_PAGE = {
    "data": "pages/data.py", "label": "pages/label.py", "tune": "pages/tune.py", "compare": "pages/compare.py",
    "deploy": "pages/deploy.py", "monitor": "pages/monitor.py", "retrain": "pages/monitor.py",
}


@dataclass(frozen=True)
class LineageNode:
    run_id: str
    stage: str
    name: str
    status: str
    start_time: int
    focus: bool = False

    @property
    def page(self) -> str:
        return STAGE_PAGE.get(self.stage, "pages/home.py")


@dataclass(frozen=True)
class LineageGraph:
    nodes: tuple[LineageNode, ...]
    edges: tuple[tuple[str, str], ...]  # (input run id, consumer run id)

    def to_dot(self) -> str:
        """Graphviz DOT, left to right, the focus run highlighted."""
        lines = ["digraph lineage {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="sans-serif",'
                 ' fontsize=11, fillcolor="#f0f2f6", color="#9aa0a6"];']
        for n in self.nodes:
            label = f"{n.stage}\\n{_wrapped(n.name)}\\n{n.run_id[:8]}".replace('"', "'")
            extra = ', fillcolor="#dbe9ff", color="#1f6feb", penwidth=2' if n.focus else ""
            if n.status == "FAILED":
                extra += ', fillcolor="#fde2e1"'
            lines.append(f'  "{n.run_id}" [label="{label}"{extra}];')
        lines += [f'  "{a}" -> "{b}";' for a, b in self.edges]
        lines.append("}")
        return "\n".join(lines)


def _wrapped(name: str, width: int = 26, lines: int = 3) -> str:
    """A run name on up to ``lines`` lines of ``width`` characters (a node shows the whole name, not a cut one)."""
    import textwrap

    parts = textwrap.wrap(name, width, break_long_words=True, break_on_hyphens=True) or [""]
    if len(parts) > lines:
        parts = [*parts[: lines - 1], textwrap.shorten(" ".join(parts[lines - 1:]), width, placeholder="…")]
    return "\\n".join(parts)


def _node(run: RunSummary, focus: bool = False) -> LineageNode:
    return LineageNode(run.run_id, run.stage or "?", run.name or run.run_id[:8], run.status, run.start_time, focus)


def lineage_graph(tracker: Tracker, project: str, run_id: str, downstream_depth: int = 4) -> LineageGraph:
    """Upstream of ``run_id`` to the raw data, and downstream up to ``downstream_depth`` hops."""
    nodes: dict[str, LineageNode] = {}
    edges: set[tuple[str, str]] = set()
    for run in tracker.lineage(run_id):
        nodes[run.run_id] = _node(run, focus=run.run_id == run_id)
        for parent in run.inputs:
            edges.add((parent, run.run_id))
    frontier = [run_id]
    for _ in range(downstream_depth):
        nxt: list[str] = []
        for rid in frontier:
            for run in tracker.runs(project, filter_string=f"tags.`{INPUTS_TAG}` LIKE '%{rid}%'", max_results=200):
                if run.tags.get("mlflow.parentRunId"):
                    continue  # trial child runs would flood the picture
                edges.update((parent, run.run_id) for parent in run.inputs)
                if run.run_id not in nodes:
                    nodes[run.run_id] = _node(run)
                    nxt.append(run.run_id)
        frontier = nxt
        if not frontier:
            break
    known = set(nodes)
    kept = tuple(sorted((a, b) for a, b in edges if a in known and b in known))
    ordered = tuple(sorted(nodes.values(), key=lambda n: n.start_time))
    return LineageGraph(ordered, kept)
