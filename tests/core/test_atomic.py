"""Atomic writes from many threads of one process: no shared temp file, no failed rename, whole content."""

from __future__ import annotations

import threading

from core.atomic import write_atomic
from core.data.drafts import store_upload


def test_threads_writing_one_file_never_collide(tmp_path) -> None:
    path = tmp_path / "state.json"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(i: int) -> None:
        start.wait()
        try:
            for _ in range(50):
                write_atomic(path, f"{i}" * 1000)
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    text = path.read_text()
    assert len(text) == 1000 and len(set(text)) == 1  # one writer's whole content, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left behind


def test_two_sessions_uploading_the_same_bytes_at_once(tmp_path) -> None:
    data = b"a,b\n1,2\n" * 10_000
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def upload() -> None:
        start.wait()
        try:
            store_upload(tmp_path, data, "same.csv")
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (saved,) = list((tmp_path / "uploads").iterdir())
    assert saved.read_bytes() == data
