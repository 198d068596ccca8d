"""Drafts survive restarts and torn writes; uploads are content-addressed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.data.drafts import Draft, atomic_write_text, clear_draft, load_draft, save_draft, store_upload
from core.errors import DataError


def test_draft_round_trip_and_clear(tmp_path: Path) -> None:
    d = Draft(name="penguins", source_kind="bundled", source_ref="penguins",
              recipe={"steps": [{"kind": "drop_duplicates", "params": {}}]}, target="species")
    save_draft(tmp_path, "my project/1", "browser:ab", d)
    back = load_draft(tmp_path, "my project/1", "browser:ab")
    assert back is not None and back.recipe == d.recipe and back.target == "species" and back.updated > 0
    assert load_draft(tmp_path, "other", "browser:ab") is None
    clear_draft(tmp_path, "my project/1", "browser:ab")
    assert load_draft(tmp_path, "my project/1", "browser:ab") is None


def test_corrupt_draft_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = save_draft(tmp_path, "p", "me", Draft("a", "bundled", "a"))
    path.write_text('{"name": "a", "source_')  # a torn file from an older, non-atomic writer
    assert load_draft(tmp_path, "p", "me") is None


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


def test_each_person_gets_their_own_draft_of_one_project(tmp_path: Path) -> None:
    people = [f"browser:{i:032x}" for i in range(10)] + ["user:ann@example.com", "user:../../etc"]
    for i, who in enumerate(people):
        save_draft(tmp_path, "shared", who, Draft(f"table-{i}", "bundled", f"t{i}"))
    for i, who in enumerate(people):
        assert load_draft(tmp_path, "shared", who).name == f"table-{i}"
    assert load_draft(tmp_path, "shared", "browser:" + "f" * 32) is None  # a newcomer gets nobody's draft
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert len(files) == len(people) and all(f.startswith("drafts/shared/") for f in files)
    assert not any("example.com" in f or ".." in f for f in files)  # hashed: no e-mail, no escape


def test_an_old_per_project_draft_is_offered_once_to_the_first_visitor(tmp_path: Path) -> None:
    legacy = tmp_path / "drafts" / "p.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"name": "old", "source_kind": "bundled", "source_ref": "penguins"}))
    assert load_draft(tmp_path, "p", "browser:first").name == "old"
    assert not legacy.exists()
    assert load_draft(tmp_path, "p", "browser:second") is None  # claimed: nobody else sees it
    assert load_draft(tmp_path, "p", "browser:first").name == "old"  # the first visitor keeps it


def test_an_old_draft_never_replaces_a_persons_own_draft(tmp_path: Path) -> None:
    save_draft(tmp_path, "p", "me", Draft("mine", "bundled", "digits"))
    (tmp_path / "drafts" / "p.json").write_text(json.dumps({"name": "old", "source_kind": "bundled",
                                                            "source_ref": "penguins"}))
    assert load_draft(tmp_path, "p", "me").name == "mine"


def test_a_draft_needs_an_identity(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="identity"):
        save_draft(tmp_path, "p", "", Draft("a", "bundled", "a"))
