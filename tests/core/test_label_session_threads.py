"""Two tabs are two threads of one server: their atomic writes of one file must not share a temp file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from core.label import labellog
from core.label.labellog import LabelLog


def test_two_threads_write_the_same_session_file_at_once(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The first writer is held between writing its temp file and renaming it until the second is done
    (the interleaving two tabs opening one version met on a busy server: FileNotFoundError on rename)."""
    log = LabelLog.for_version(tmp_path, "default", "run1", "kind")
    second_done = threading.Event()
    held = threading.local()
    real_replace = os.replace
    errors: list[BaseException] = []

    def replace(src, dst) -> None:  # noqa: ANN001
        if getattr(held, "wait", False):
            assert second_done.wait(10), "the second writer did not finish"
        real_replace(src, dst)

    monkeypatch.setattr(labellog.os, "replace", replace)

    def write(meta: dict, hold: bool) -> None:
        held.wait = hold
        try:
            log.write_session(meta)
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)
        finally:
            if not hold:
                second_done.set()

    a = threading.Thread(target=write, args=({"tab": "a"}, True))
    b = threading.Thread(target=write, args=({"tab": "b"}, False))
    a.start()
    b.start()
    b.join(20)
    a.join(20)
    assert not errors, errors
    assert log.session() in ({"tab": "a"}, {"tab": "b"})  # one whole set-up, whichever rename came last
    assert not list(tmp_path.rglob("*.tmp*"))
