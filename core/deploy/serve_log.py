"""The bundle server's prediction log: every scored row (sampled) as rotating Parquet files in a folder.

Shipped in the bundle as ``serve_log.py`` beside ``serve.py`` (plain numpy + pyarrow, no workbench import).
The request path only appends a reference to what it already has (the cells as sent, the answer, the
latency) to an in-memory buffer; a background thread turns buffers into Parquet files when
``flush_rows`` rows are waiting or ``flush_seconds`` have passed, and :meth:`PredictionLog.close`
writes what is left at graceful shutdown. A buffer that outgrows ``max_buffer_rows`` (the disk is
slower than the traffic) drops rows and counts them rather than slowing requests down.

One file per flush, ``predictions-<UTC time>-<pid>-<n>.parquet``, written under a temporary name and
renamed, so a reader (Monitor, a pipeline watching the folder) never sees half a file. When the log's
files exceed ``max_bytes`` the oldest are deleted (rotation): the folder's size stays bounded.

Columns: ``request_id`` (the client's ``X-Request-ID`` or a generated one), ``row`` (position in the
request), ``request_rows`` (rows in that request), ``served_at`` (UTC), ``latency_ms`` (the request's time in the server up to the answer),
the model's input columns in raw units as sent (null = missing), ``prediction`` and, for classifiers,
``probability`` (of the predicted class). The file's key-value metadata ``workbench.log`` (JSON)
names the feature columns, the task, the classes, the model and its export-time latency baseline.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import datetime, timezone

import numpy as np

META_KEY = b"workbench.log"
PREFIX = "predictions-"
RESERVED = ("request_id", "row", "request_rows", "served_at", "latency_ms", "prediction", "probability")


class PredictionLog:
    """A buffered, sampled, size-capped Parquet log of scored rows (thread-safe appends)."""

    def __init__(self, folder: str, schema: dict, *, sample: float = 1.0, max_bytes: int = 512 * 2**20,
                 flush_rows: int = 10_000, flush_seconds: float = 60.0, max_buffer_rows: int = 200_000) -> None:
        self.folder = folder
        self.sample = float(sample)
        self.max_bytes = int(max_bytes)
        self.flush_rows = max(1, int(flush_rows))
        self.flush_seconds = float(flush_seconds)
        self.max_buffer_rows = int(max_buffer_rows)
        self.inputs = [(i["name"], i.get("tensor", i.get("type"))) for i in schema["inputs"]]
        # a feature named like a log column is stored as "input.<name>" (the metadata maps it back)
        self.stored = {name: (f"input.{name}" if name in RESERVED else name) for name, _ in self.inputs}
        self.task = schema.get("task", "")
        self.meta = json.dumps({"version": 1, "features": [n for n, _ in self.inputs], "stored": self.stored,
                                "task": self.task, "sample": self.sample, "classes": schema.get("classes", []),
                                "source_model": schema.get("source_model", ""),
                                "latency_baseline": schema.get("latency_baseline")}, default=str).encode()
        self._buf: list[tuple] = []
        self._rows = 0
        self._since = time.monotonic()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._seq = 0
        self.logged = self.dropped = self.files = self.deleted = 0
        self.error = ""
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, folder: str, schema: dict, **options: object) -> tuple[PredictionLog | None, str]:
        """A log writing to ``folder`` (created), or ``(None, why)`` when it cannot be written."""
        try:
            import pyarrow  # noqa: F401 - checked here so a missing wheel is said at start, not at the first flush
        except ImportError:
            return None, "pyarrow is not installed (pip install -r requirements.txt)"
        probe = os.path.join(folder, f".write-test-{os.getpid()}")
        try:
            os.makedirs(folder, exist_ok=True)
            with open(probe, "wb") as fh:
                fh.write(b"ok")
            os.remove(probe)
        except OSError as err:
            return None, f"{err.strerror or err}"
        return cls(folder, schema, **options), ""  # type: ignore[arg-type]

    # -- the request path: append references, nothing else ----------------------------------------
    def add(self, request_id: str, latency_s: float, values: dict, n: int, answer: dict) -> None:
        """Queue one answered request (``values``: the cells as sent, one list per column)."""
        keep = None
        if self.sample < 1.0:
            keep = [i for i in range(n) if random.random() < self.sample]
            if not keep:
                return
        k = n if keep is None else len(keep)
        with self._lock:
            if self._rows + k > self.max_buffer_rows:
                self.dropped += k
                return
            self._buf.append((request_id, time.time(), latency_s, values, n, answer, keep))
            self._rows += k
            full = self._rows >= self.flush_rows
        if full:
            self._wake.set()

    # -- the writer thread ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="prediction-log", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        tick = min(1.0, max(0.05, self.flush_seconds / 4))
        while not self._stop:
            self._wake.wait(tick)
            self._wake.clear()
            due = self._rows >= self.flush_rows or (self._rows and time.monotonic() - self._since >= self.flush_seconds)
            if due:
                self.flush()

    def close(self) -> None:
        """Stop the writer and write what is buffered (graceful shutdown)."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def flush(self) -> str:
        """Write the buffered rows as one Parquet file; returns its path ('' when nothing was buffered)."""
        with self._write_lock:
            with self._lock:
                buf, self._buf, rows = self._buf, [], self._rows
                self._rows, self._since = 0, time.monotonic()
            if not buf:
                return ""
            try:
                path = self._write(buf)
            except Exception as err:  # noqa: BLE001 - a full disk must not stop the service
                self.dropped += rows
                self.error = f"{type(err).__name__}: {str(err)[:200]}"
                return ""
            self.logged += rows
            self.files += 1
            self._rotate()
            return path

    def _table(self, buf: list[tuple]):  # noqa: ANN202
        import pyarrow as pa

        ids: list[str] = []
        pos: list[int] = []
        sizes: list[int] = []
        stamps: list[int] = []
        lat: list[float] = []
        cols: dict[str, list] = {name: [] for name, _ in self.inputs}
        preds: list = []
        probs: list[float] = []
        classifier = self.task == "classification"
        for rid, wall, latency, values, n, answer, keep in buf:
            idx = range(n) if keep is None else keep
            k = len(idx)
            ids += [rid] * k
            pos += list(idx)
            sizes += [n] * k
            stamps += [int(wall * 1e6)] * k
            lat += [latency * 1000.0] * k
            p = answer["predictions"]
            preds += p if keep is None else [p[i] for i in keep]
            if classifier:
                pr = np.asarray(answer["probabilities"], dtype=float)
                best = pr.max(axis=1) if pr.size else np.full(n, np.nan)
                probs += best.tolist() if keep is None else [float(best[i]) for i in keep]
            for name, _ in self.inputs:
                cells = values[name]
                cols[name] += cells if keep is None else [cells[i] for i in keep]
        arrays = {"request_id": pa.array(ids, pa.string()), "row": pa.array(pos, pa.int32()),
                  "request_rows": pa.array(sizes, pa.int32()),
                  "served_at": pa.array(stamps, pa.timestamp("us", tz="UTC")),
                  "latency_ms": pa.array(lat, pa.float64())}
        for name, kind in self.inputs:
            time.sleep(0)  # yield the GIL between columns: the event loop keeps answering while a file is built
            cells = cols[name]
            if kind == "string":
                arr = pa.array([None if v is None or v == "" else str(v) for v in cells], pa.string())
            else:
                arr = pa.array([None if v is None else float(v) for v in cells], pa.float64())
            arrays[self.stored[name]] = arr
        if classifier:
            arrays["prediction"] = pa.array([str(v) for v in preds], pa.string())
            arrays["probability"] = pa.array(probs, pa.float64())
        else:
            arrays["prediction"] = pa.array(preds, pa.float64())
        table = pa.table(arrays)
        return table.replace_schema_metadata({META_KEY: self.meta})

    def _write(self, buf: list[tuple]) -> str:
        import pyarrow.parquet as pq

        table = self._table(buf)
        self._seq += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{PREFIX}{stamp}-{os.getpid()}-{self._seq:06d}.parquet"
        path = os.path.join(self.folder, name)
        tmp = os.path.join(self.folder, f".{name}.tmp")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)  # atomic: readers see the whole file or none of it
        return path

    def _rotate(self) -> None:
        try:
            files = sorted(f for f in os.listdir(self.folder) if f.startswith(PREFIX) and f.endswith(".parquet"))
            sizes = {f: os.path.getsize(os.path.join(self.folder, f)) for f in files}
            total = sum(sizes.values())
            for f in files[:-1]:  # names sort by time: the oldest go first; the newest file always stays
                if total <= self.max_bytes:
                    break
                os.remove(os.path.join(self.folder, f))
                total -= sizes[f]
                self.deleted += 1
        except OSError as err:
            self.error = f"rotation: {err.strerror or err}"
