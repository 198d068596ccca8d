"""Reservations: concurrent sessions get disjoint batches; expired or dead holds free their rows."""

from __future__ import annotations

import threading
from pathlib import Path

from core.label.labellog import LabelLog
from core.label.reservations import HOLD_SECONDS, Reservation, Reservations


def _res(tmp_path: Path) -> Reservations:
    return Reservations.for_log(LabelLog.for_version(tmp_path, "proj", "a" * 32, "label").path)


def _first_free(n: int, pool: range = range(100)):  # noqa: ANN202
    return lambda held: [r for r in pool if r not in held][:n]


def test_two_sessions_get_disjoint_batches(tmp_path: Path) -> None:
    res = _res(tmp_path)
    a = res.draw("tab-a", _first_free(10), now=1000.0)
    b = res.draw("tab-b", _first_free(10), now=1001.0)
    assert a == list(range(10)) and b == list(range(10, 20))
    assert res.held_by_others("tab-a", now=1002.0) == set(b)
    assert res.path.name.endswith("__label.reservations.json")
    # a new batch of one session replaces its own hold, it does not add to it
    a2 = res.draw("tab-a", _first_free(5), now=1003.0)
    assert a2 == list(range(5)) and res.held_by_others("tab-b", now=1004.0) == set(range(5))


def test_sessions_drawing_at_the_same_moment_never_overlap(tmp_path: Path) -> None:
    res = _res(tmp_path)
    got: dict[int, list[int]] = {}
    start = threading.Barrier(8)

    def draw(i: int) -> None:
        start.wait()
        got[i] = res.draw(f"tab-{i}", _first_free(10))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = [r for batch in got.values() for r in batch]
    assert len(rows) == 80 and len(set(rows)) == 80
    assert len(res.all()) == 8


def test_expiry_frees_rows(tmp_path: Path) -> None:
    res = _res(tmp_path)
    res.draw("tab-a", _first_free(10), now=1000.0, hold=60)
    assert res.held_by_others("tab-b", now=1059.0) == set(range(10))
    assert res.held_by_others("tab-b", now=1061.0) == set()
    # the expired record is dropped the next time anyone draws
    assert res.draw("tab-b", _first_free(3), now=1061.0) == [0, 1, 2]
    assert [r.session for r in res.all()] == ["tab-b"]


def test_a_dead_session_does_not_block_forever(tmp_path: Path) -> None:
    res = _res(tmp_path)
    res.draw("dead", _first_free(10), now=1000.0, client="s-dead", server="h:1")
    # Without liveness information: blocked only until the hold runs out, never longer.
    assert res.held_by_others("live", now=1000.0 + HOLD_SECONDS - 1) == set(range(10))
    assert res.held_by_others("live", now=1000.0 + HOLD_SECONDS + 1) == set()
    # With it (the server knows the session is gone): free at once.
    gone = lambda r: r.client == "s-dead"  # noqa: E731
    assert res.draw("live", _first_free(10), now=1001.0, is_dead=gone) == list(range(10))


def test_renew_keeps_a_live_hold_and_release_frees_it(tmp_path: Path) -> None:
    res = _res(tmp_path)
    res.draw("tab-a", _first_free(4), now=1000.0, hold=100)
    assert not res.renew("tab-a", hold=100, now=1010.0)  # more than half left: no write
    assert res.renew("tab-a", hold=100, now=1060.0)
    assert res.mine("tab-a").expires == 1160.0
    assert res.held_by_others("tab-b", now=1150.0) == {0, 1, 2, 3}
    assert not res.renew("tab-a", hold=100, now=1200.0)  # expired meanwhile: not resurrected
    res.draw("tab-a", _first_free(4), hold=100)
    res.release("tab-a")
    assert res.all() == []


def test_an_unreadable_file_holds_nothing(tmp_path: Path) -> None:
    res = _res(tmp_path)
    res.path.parent.mkdir(parents=True)
    res.path.write_text('{"version": 1, "sessions": [{"sess')
    assert res.all() == [] and res.draw("tab-a", _first_free(2)) == [0, 1]
    assert isinstance(res.all()[0], Reservation)
