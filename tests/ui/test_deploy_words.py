"""The Deploy page's speed sentence reads the right way round."""

from __future__ import annotations

from ui.deploy import speed_words


def test_a_ratio_under_one_is_slower_not_a_fraction_faster() -> None:
    assert speed_words(8.44) == "8.4× faster"
    assert speed_words(1.0) == "1.0× faster"
    assert speed_words(30.6 / 32.9) == "1.1× slower"  # the tour's 10,000-row batch: 32.9 ms vs 30.6 ms
    assert speed_words(0.25) == "4.0× slower"
    assert speed_words(0.0) == "slower"
