"""Drafts survive restarts and torn writes; uploads are content-addressed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.data.drafts import Draft, atomic_write_text, clear_draft, load_draft, save_draft, store_upload


def test_draft_round_trip_and_clear(tmp_path: Path) -> None:
    d = Draft(name="penguins", source_kind="bundled", source_ref="penguins",
              recipe={"steps": [{"kind": "drop_duplicates", "params": {}}]}, target="species")
    save_draft(tmp_path, "my project/1", d)
    back = load_draft(tmp_path, "my project/1")
    assert back is not None and back.recipe == d.recipe and back.target == "species" and back.updated > 0
    assert load_draft(tmp_path, "other") is None
    clear_draft(tmp_path, "my project/1")
    assert load_draft(tmp_path, "my project/1") is None


def test_corrupt_draft_is_ignored_not_fatal(tmp_path: Path) -> None:
    save_draft(tmp_path, "p", Draft("a", "bundled", "a"))
    path = tmp_path / "drafts" / "p.json"
    path.write_text('{"name": "a", "source_')  # a torn file from an older, non-atomic writer
    assert load_draft(tmp_path, "p") is None


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "x" / "f.json"
    for i in range(5):
        atomic_write_text(target, json.dumps({"i": i}))
    assert json.loads(target.read_text()) == {"i": 4}
    assert os.listdir(target.parent) == ["f.json"]


def test_store_upload_is_content_addressed(tmp_path: Path) -> None:
    a = store_upload(tmp_path, b"a,b\n1,2\n", "My File.csv")
    b = store_upload(tmp_path, b"a,b\n1,2\n", "My File.csv")
    c = store_upload(tmp_path, b"a,b\n1,3\n", "My File.csv")
    assert a == b != c and a.read_bytes() == b"a,b\n1,2\n" and a.suffix == ".csv"
