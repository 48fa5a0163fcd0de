"""Progress bars: shown exactly when ``verbose`` asks, on a terminal, in a notebook or a log."""

from __future__ import annotations

import io
import sys

from neurosim.base import progress_bar


def test_a_verbose_bar_shows_even_when_stderr_is_not_a_terminal(monkeypatch):
    stream = io.StringIO()  # not a TTY: like a notebook's or a log file's stderr
    monkeypatch.setattr(sys, "stderr", stream)
    with progress_bar(3, verbose=1, desc="epoch 1", unit="img") as bar:
        assert not bar.disable
        bar.update(3)
    assert "epoch 1" in stream.getvalue() and "/3 " in stream.getvalue()


def test_a_quiet_bar_draws_nothing(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with progress_bar(3, verbose=0, desc="epoch 1") as bar:
        assert bar.disable
        bar.update(3)
    assert stream.getvalue() == ""
