"""core.names: the safe name set, and paths derived from names that must stay inside their base."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ConfigError, WorkbenchError
from core.names import (
    PathEscapeError,
    UnsafeNameError,
    check_project,
    check_study,
    inside,
    project_artifact_location,
)


@pytest.mark.parametrize("name", ["default", "penguins", "Team_A.v2", "a", "x-1", "9lives", "a" * 80])
def test_safe_names_pass_unchanged(name: str) -> None:
    assert check_project(f"  {name} ") == name
    assert check_study(name) == name


@pytest.mark.parametrize("name", ["", "   ", "../../tmp/evil", "..", ".hidden", "a/b", "a\\b", "a b", "a" * 81,
                                  "naïve", "x\x00y", "semi;colon", "~root", "$HOME"])
def test_unsafe_names_are_one_sentence_naming_the_value(name: str) -> None:
    with pytest.raises(UnsafeNameError) as err:
        check_project(name)
    text = str(err.value)
    assert isinstance(err.value, WorkbenchError)
    assert "\n" not in text and text.startswith("The project name must be") and text.endswith("instead.")
    assert repr(name.strip())[:40] in text or "…" in text


def test_study_names_say_study() -> None:
    with pytest.raises(UnsafeNameError, match="^The study name"):
        check_study("../x")


def test_inside_accepts_children_and_refuses_escapes(tmp_path: Path) -> None:
    assert inside(tmp_path, "a", "b.txt") == (tmp_path / "a" / "b.txt").resolve()
    assert inside(tmp_path) == tmp_path.resolve()
    assert inside(tmp_path, "a/../b") == (tmp_path / "b").resolve()
    for parts in (("..",), ("../x",), ("a", "../../x"), ("/etc/passwd",)):
        with pytest.raises(PathEscapeError, match="leads outside"):
            inside(tmp_path, *parts)
    (tmp_path / "link").symlink_to(tmp_path.parent)  # a symlink pointing out is an escape too
    with pytest.raises(PathEscapeError):
        inside(tmp_path, "link", "x")


def test_project_artifact_location_stays_under_a_file_root(tmp_path: Path) -> None:
    root = (tmp_path / "artifacts").as_uri()
    assert project_artifact_location(root, "p") == (tmp_path / "artifacts" / "p").as_uri()
    with pytest.raises(PathEscapeError):
        project_artifact_location(root, "../../tmp/evil")
    assert project_artifact_location("s3://bucket/wb/", "p") == "s3://bucket/wb/p"


def test_workbench_project_from_the_environment_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^WORKBENCH_PROJECT: The project name .*'\.\./\.\./tmp/evil'"):
        Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_PROJECT": "../../tmp/evil"})
    assert Settings.from_env({"WORKBENCH_HOME": str(tmp_path), "WORKBENCH_PROJECT": "team.a"}).project == "team.a"
