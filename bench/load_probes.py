"""What bench_load measures besides time: CPU seconds of processes, the pages' main-thread work (CDP) and
where the server's py-spy samples went."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) of one process, or busy seconds of the whole machine (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    cpu = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) / tick  # all but idle and iowait


def browser_cpu(exclude: int) -> float:
    """CPU seconds of this script's descendants except the server: the Playwright driver and Chromium."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    kids, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for child, ppid in parent.items():
            if ppid == pid and child != exclude:
                kids.append(child)
                todo.append(child)
    total = 0.0
    for pid in kids:
        try:
            total += cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue
    return total


def written(pid: int) -> int:
    """Bytes a process has written (``wchar`` of /proc/<pid>/io): for the app server, mostly what it sent."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def main_thread_s(probes: list) -> float:  # noqa: ANN001
    """Main-thread CPU seconds of the pages' renderers so far (CDP Performance TaskDuration in thread time):
    the browser's work, which does not grow when the machine is busy the way its wall time does."""
    total = 0.0
    for cdp in probes:
        total += next((m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                       if m["name"] == "TaskDuration"), 0.0)
    return total



def print_profile(path: Path, top: int = 20) -> None:
    """Where the server's samples went: by package (leaf frame) and by function (inclusive)."""
    import re
    from collections import Counter

    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        leaf = frames[-1]
        m = re.search(r"site-packages/([^/]+)/", leaf) or re.search(r"\((?:/work/main/)?([^/)]+)/", leaf)
        by_package[m.group(1) if m else leaf[:40]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"\nserver CPU samples (py-spy, idle threads excluded): {total}")
    print("by package of the running frame:")
    for name, n in by_package.most_common(12):
        print(f"{100 * n / max(total, 1):6.1f} %  {name}")
    print(f"top {top} functions by inclusive share:")
    for frame, n in inclusive.most_common(top):
        print(f"{100 * n / max(total, 1):6.1f} %  {frame[:130]}")
