"""Checkpoints: a training run killed with SIGKILL resumes to the uninterrupted result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from neurosim import STDPNetwork, load_digits_784
from neurosim.io import ModelFileError, load_arrays
from neurosim.spiking.engine import STDPEngine

CONFIG = dict(n_neurons=30, chunk_size=250, random_state=11, max_iter=2)
N_EXAMPLES = 600  # 2 passes of 3 chunks each

TRAIN_SCRIPT = """
import sys
from neurosim import STDPNetwork, load_digits_784
X, y = load_digits_784("train")
X, y = X[:{n}], y[:{n}]
STDPNetwork(**{config}, checkpoint=sys.argv[1], checkpoint_interval=1).fit(X, y)
"""


@pytest.fixture(autouse=True)
def build_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.getbasetemp() / "builds"))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_784("train")
    return X[:N_EXAMPLES], y[:N_EXAMPLES]


@pytest.fixture(scope="module")
def uninterrupted(digits, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.getbasetemp() / "builds"))
        return STDPNetwork(**CONFIG).fit(*digits)


def assert_same_network(a: STDPNetwork, b: STDPNetwork) -> None:
    for key in a.state_:
        np.testing.assert_array_equal(a.state_[key], b.state_[key], err_msg=key)
    np.testing.assert_array_equal(a.assignments_, b.assignments_)
    assert a.examples_seen_ == b.examples_seen_ and a.n_chunks_ == b.n_chunks_


def test_sigkill_mid_run_then_resume_equals_uninterrupted(digits, uninterrupted, tmp_path):
    X, y = digits
    checkpoint = tmp_path / "train.ckpt.npz"
    total = CONFIG["max_iter"] * len(X)
    process = subprocess.Popen(
        [sys.executable, "-c", TRAIN_SCRIPT.format(config=CONFIG, n=N_EXAMPLES), str(checkpoint)],
        env=os.environ.copy(),
    )
    seen = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.exists():
            seen = load_arrays(checkpoint)[1]["examples_seen"]
            if seen >= 250:
                break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "training finished before it could be killed"
    seen = load_arrays(checkpoint)[1]["examples_seen"]
    assert 0 < seen < total
    resumed = STDPNetwork(**CONFIG, checkpoint=checkpoint).fit(X, y)
    assert_same_network(resumed, uninterrupted)
    assert resumed.history_[-1]["examples_seen"] == total


def test_ctrl_c_writes_a_checkpoint_that_resumes(digits, uninterrupted, tmp_path, monkeypatch):
    X, y = digits
    checkpoint = tmp_path / "interrupted.npz"
    real_run_chunk = STDPEngine.run_chunk
    calls = {"n": 0}

    def interrupt_on_third_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_run_chunk(self, *args, **kwargs)

    monkeypatch.setattr(STDPEngine, "run_chunk", interrupt_on_third_chunk)
    model = STDPNetwork(**CONFIG, checkpoint=checkpoint, checkpoint_interval=10**9)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    monkeypatch.setattr(STDPEngine, "run_chunk", real_run_chunk)
    assert load_arrays(checkpoint)[1]["n_chunks"] == 2
    resumed = STDPNetwork(**CONFIG, checkpoint=checkpoint).fit(X, y)
    assert_same_network(resumed, uninterrupted)


def test_checkpoint_of_another_configuration_is_refused(digits, tmp_path):
    X, y = digits
    checkpoint = tmp_path / "other.npz"
    small = dict(CONFIG, max_iter=1)
    STDPNetwork(**small, checkpoint=checkpoint).fit(X[:300], y[:300])
    with pytest.raises(ModelFileError, match="other parameters"):
        STDPNetwork(**dict(small, random_state=12), checkpoint=checkpoint).fit(X[:300], y[:300])
    with pytest.raises(ModelFileError, match="other training data"):
        STDPNetwork(**small, checkpoint=checkpoint).fit(X[1:301], y[1:301])


CONCURRENT_SCRIPT = """
import sys
import numpy as np
from neurosim import STDPNetwork, load_digits_784
X, y = load_digits_784("train")
model = STDPNetwork(n_neurons=30, chunk_size=250, random_state=5).fit(X[:500], y[:500])
np.save(sys.argv[1], model.weights_)
"""


def test_two_processes_share_one_build_cache_safely(tmp_path, uninterrupted):
    # ``uninterrupted`` has compiled this configuration into the shared cache; both processes
    # now regenerate it (under a lock) and simulate at the same time.
    outputs = [tmp_path / f"weights{k}.npy" for k in range(2)]
    processes = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_SCRIPT, str(out)], env=os.environ.copy())
        for out in outputs
    ]
    assert [process.wait(timeout=600) for process in processes] == [0, 0]
    first, second = (np.load(out) for out in outputs)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first.sum(axis=0), 78.0, rtol=1e-6)


def test_rate_mlp_resumes_from_its_epoch_checkpoint(digits, tmp_path, interrupt_rate_mlp_epoch):
    from neurosim import RateMLP

    X, y = digits
    config = dict(hidden_layer_sizes=(32,), max_iter=4, random_state=3, lr_schedule="cosine")
    uninterrupted = RateMLP(**config).fit(X, y)
    checkpoint = tmp_path / "mlp.npz"
    interrupt_rate_mlp_epoch(3)
    with pytest.raises(KeyboardInterrupt):
        RateMLP(**config, checkpoint=checkpoint).fit(X, y)
    interrupt_rate_mlp_epoch(0)
    assert RateMLP.load(checkpoint).n_iter_ == 2
    resumed = RateMLP(**config, checkpoint=checkpoint, verbose=0).fit(X, y)
    assert resumed.n_iter_ == 4 and len(resumed.history_) == 4
    for a, b in zip(resumed.coefs_, uninterrupted.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ModelFileError, match="other parameters"):
        RateMLP(**dict(config, alpha=0.5), checkpoint=checkpoint).fit(X, y)
    with pytest.raises(ModelFileError, match="other training data"):
        RateMLP(**config, checkpoint=checkpoint).fit(X[1:], y[1:])


def test_rate_mlp_resumes_twice_without_changing_its_parameters(
    digits, tmp_path, interrupt_rate_mlp_epoch
):
    from neurosim import RateMLP

    X, y = digits
    config = dict(hidden_layer_sizes=8, max_iter=3, random_state=3, checkpoint=tmp_path / "c.npz")
    interrupt_rate_mlp_epoch(2)
    with pytest.raises(KeyboardInterrupt):
        RateMLP(**config).fit(X, y)
    resumed = RateMLP(**config)
    interrupt_rate_mlp_epoch(2)  # epoch 3: the checkpoint is now a resumed run's
    with pytest.raises(KeyboardInterrupt):
        resumed.fit(X, y)
    assert resumed.get_params() == RateMLP(**config).get_params()
    interrupt_rate_mlp_epoch(0)
    assert RateMLP(**config).fit(X, y).n_iter_ == 3


def test_rate_mlp_path_parameters_are_saved_as_strings(digits, tmp_path):
    from neurosim import RateMLP

    X, y = digits
    checkpoint = tmp_path / "mlp.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "not JSON-serialisable" warning
        RateMLP(hidden_layer_sizes=(8,), max_iter=1, checkpoint=checkpoint).fit(X, y)
    assert RateMLP.load(checkpoint).checkpoint == str(checkpoint)


def test_rate_mlp_resume_trains_on_the_interrupted_runs_split(
    digits, tmp_path, interrupt_rate_mlp_epoch
):
    from neurosim import RateMLP

    X, y = digits
    config = dict(
        hidden_layer_sizes=(8,),
        max_iter=3,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=None,  # the split seed is drawn, and must come back from the checkpoint
        checkpoint=tmp_path / "mlp.npz",
    )
    interrupted = interrupt_rate_mlp_epoch(2)
    with pytest.raises(KeyboardInterrupt):
        RateMLP(**config).fit(X, y)
    resumed = interrupt_rate_mlp_epoch(0)
    RateMLP(**config).fit(X, y)
    assert len(resumed) == 2  # epochs 2 and 3
    np.testing.assert_array_equal(resumed[0], interrupted[0])
