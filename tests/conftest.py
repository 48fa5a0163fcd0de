"""Fixtures shared by several test files."""

from __future__ import annotations

import urllib.error

import pytest


def _offline(url: str) -> bytes:
    raise urllib.error.URLError(f"no network in tests ({url})")


@pytest.fixture
def offline_fetch():
    """A ``fetch`` for :func:`neurosim.load_mnist` that fails like a machine without network."""
    return _offline


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """NEUROSIM_DATA is an empty folder, the user cache is empty and the network is off."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("NEUROSIM_DATA", str(empty))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("the test tried to use the network")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    return empty


@pytest.fixture
def interrupt_rate_mlp_epoch(monkeypatch):
    """``interrupt(call)`` makes the ``call``-th RateMLP epoch from now (0: none) raise
    KeyboardInterrupt, like Ctrl-C; it returns a list that receives each epoch's inputs."""
    from neurosim import RateMLP

    real_epoch = RateMLP._run_epoch

    def interrupt(call: int) -> list:
        seen = []

        def epoch(self, X, *args):
            seen.append(X.copy())
            if len(seen) == call:
                raise KeyboardInterrupt
            return real_epoch(self, X, *args)

        monkeypatch.setattr(RateMLP, "_run_epoch", epoch)
        return seen

    return interrupt
