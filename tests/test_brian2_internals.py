"""Tests of neurosim.spiking.brian2_internals and build: where a Brian2 upgrade would break us.

One tiny standalone project is compiled (cached per test session) and run several times.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import brian2 as b2
import numpy as np
import pytest

from neurosim.spiking import build
from neurosim.spiking.brian2_internals import (
    PARENT_VARIABLE,
    SEED_VARIABLE,
    isolated_device,
    read_result,
    run_binary,
    stop_function,
)
from neurosim.spiking.build import build_key, cpu_identity, run_build, standalone_build

devices = importlib.import_module("brian2.devices.device")


@pytest.fixture
def user_brian2_state():
    """A user's Brian2 settings, different from Brian2's and the engine's defaults."""
    b2.set_device("runtime")
    previous = (b2.defaultclock.dt, b2.prefs.codegen.target)
    b2.defaultclock.dt = 0.2 * b2.ms
    b2.prefs.codegen.target = "numpy"
    yield
    b2.defaultclock.dt, b2.prefs.codegen.target = previous
    devices.reset_device()


def test_isolated_device_restores_device_clock_preferences_and_random_state(user_brian2_state):
    device, stack = b2.get_device(), len(devices.previous_devices)
    flags = list(b2.prefs.codegen.cpp.extra_compile_args_gcc)
    np.random.seed(5)  # noqa: NPY002 (Brian2's numpy target draws from the legacy generator)
    expected = np.random.get_state()[1].copy()  # noqa: NPY002
    with pytest.raises(RuntimeError, match="inside"):
        with isolated_device("runtime") as private:
            assert b2.get_device() is private and private is not device
            b2.defaultclock.dt = 0.5 * b2.ms
            b2.prefs.codegen.target = "cython"
            b2.prefs.codegen.cpp.extra_compile_args_gcc = ["-O0"]
            b2.seed(123)
            raise RuntimeError("failure inside the block")
    assert b2.get_device() is device
    assert len(devices.previous_devices) == stack
    assert b2.defaultclock.dt == 0.2 * b2.ms
    assert b2.prefs.codegen.target == "numpy"
    assert b2.prefs.codegen.cpp.extra_compile_args_gcc == flags
    np.testing.assert_array_equal(np.random.get_state()[1], expected)  # noqa: NPY002


def test_objects_made_in_isolation_stay_out_of_the_users_standalone_project(tmp_path):
    b2.set_device("cpp_standalone", directory=str(tmp_path / "user"), build_on_run=False)
    try:
        user_device = b2.get_device()
        user_group = b2.NeuronGroup(1, "v : 1", name="user_group")  # held: arrays' owners are weak
        with isolated_device("cpp_standalone", build_on_run=False):
            ours = b2.NeuronGroup(1, "v : 1", name="our_group")
            ours.v = 1
        names = {var.owner.name for var in user_device.arrays}
        assert user_group.name in names and "our_group" not in names
        assert b2.get_device() is user_device and user_device.build_on_run is False
        assert user_device.build_options == {"directory": str(tmp_path / "user")}
    finally:
        user_device.reinit()
        devices.reset_device()


def test_stop_function_ends_a_runtime_run_early():
    with isolated_device("runtime"):
        b2.prefs.codegen.target = "numpy"
        holder = {}
        stop = stop_function(lambda: holder["net"].stop())
        group = b2.NeuronGroup(1, "x : 1", namespace={"stop_when": stop})
        group.run_regularly("x = stop_when(int(t >= 2*ms))", dt=0.5 * b2.ms)
        holder["net"] = b2.Network(group)
        holder["net"].run(10 * b2.ms)
        assert 2 * b2.ms <= holder["net"].t < 3 * b2.ms


# -- a tiny compiled project ------------------------------------------------------------------
DT = 0.5 * b2.ms
STEPS = 1450  # exp(-STEPS * DT / tau) = e^-725 ~ 1e-315: a denormal unless flushed to zero
# The compiled duration: ~30 s of CPU time (65 ns per step on an AMD EPYC Zen 3), so every test
# ends its run with stop_after, and a binary outliving its parent is seen as running.
LONG_STEPS = 500_000_000


def construct_tiny():
    clock = b2.Clock(dt=DT, name="tiny_clock")
    group = b2.NeuronGroup(
        3,
        """dv/dt = -v / (1*ms) : 1
        offset : 1
        stop_after : second (shared)
        draw : 1
        stopped : 1""",
        method="exact",
        name="tiny",
        clock=clock,
        namespace={"stop_when": stop_function(lambda: None)},
    )
    group.run_regularly(
        "draw = rand() + offset\nstopped = stop_when(int(t >= stop_after))",
        clock=clock,
        name="tiny_step",
    )
    variables = {name: group.variables[name] for name in ("v", "draw")}
    variables["t"] = clock.variables["t"]
    return b2.Network(group, name="tiny_net"), LONG_STEPS * DT, variables


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEUROSIM_BUILD_CACHE", str(tmp_path_factory.getbasetemp() / "builds"))
        key = build_key({"test": "tiny"})
        return standalone_build(key, "cpp_standalone", construct_tiny)


def tiny_args(tmp_path, *, stop_after_ms, offset=0.0):
    np.ones(3).tofile(tmp_path / "v")
    args = [f"tiny.v={tmp_path / 'v'}", f"tiny.offset={offset!r}"]
    return [*args, f"tiny.stop_after={stop_after_ms * 1e-3!r}"]


def run_tiny(build, tmp_path, *, stop_after_ms, seed, offset=0.0, environment=()):
    results = tmp_path / "results"
    args = tiny_args(tmp_path, stop_after_ms=stop_after_ms, offset=offset)
    environment = {SEED_VARIABLE: str(seed), **dict(environment)}
    run_binary(build.binary_dir, results, args, environment=environment)
    return {name: read_result(results, entry) for name, entry in build.results.items()}


# Stopping when t >= this, the run ends after exactly STEPS steps.
STEPS_MS = float((STEPS - 1.5) * DT / b2.ms)


def test_decaying_variables_flush_to_zero_instead_of_going_denormal(tiny_build, tmp_path):
    results = run_tiny(tiny_build, tmp_path, stop_after_ms=STEPS_MS, seed=1)
    assert results["t"][0] == pytest.approx(float(STEPS * DT))
    # Without flush-to-zero v would hold ~1e-315 here, which Intel cores process ~100x slower.
    assert results["v"].tolist() == [0.0, 0.0, 0.0]


def test_the_time_step_loop_reads_no_cpu_clock(tiny_build, tmp_path_factory):
    # Brian2 2.9 read std::clock() (a system call) after every step; the build reads it once.
    build_dir = tmp_path_factory.getbasetemp() / "builds" / build_key({"test": "tiny"})
    source = (build_dir / "network.cpp").read_text()
    after_step = source[source.index("->tick();") :]  # the end of each time step's work
    end_of_step = after_step[: after_step.index("\n    }\n")]  # up to the loop's closing brace
    assert "next_clocks()" in end_of_step and "std::clock()" not in end_of_step


def test_run_arguments_seed_and_early_stop(tiny_build, tmp_path):
    first = run_tiny(tiny_build, tmp_path, stop_after_ms=10.0, seed=1, offset=5.0)
    again = run_tiny(tiny_build, tmp_path, stop_after_ms=10.0, seed=1, offset=5.0)
    other = run_tiny(tiny_build, tmp_path, stop_after_ms=10.0, seed=2, offset=5.0)
    assert float(first["t"][0]) == pytest.approx(0.0105)  # the step after the condition held
    assert np.all((first["draw"] >= 5.0) & (first["draw"] < 6.0))  # offset set on the command line
    np.testing.assert_array_equal(first["draw"], again["draw"])
    assert not np.array_equal(first["draw"], other["draw"])
    assert np.all(first["v"] > 0)  # decayed for ~10 ms only


def test_cached_build_runs_without_generating_code(tiny_build, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("NEUROSIM_BUILD_CACHE", str(cache))
    (cache / "k").mkdir(parents=True)
    shutil.copy2(tiny_build.binary_dir / "main", cache / "k" / "main")
    shutil.copytree(tiny_build.binary_dir / "static_arrays", cache / "k" / "static_arrays")
    manifest = {name: vars(entry) for name, entry in tiny_build.results.items()}
    (cache / "k" / "manifest.json").write_text(json.dumps(manifest))

    def fail():
        raise AssertionError("a cached build must not generate code")

    cached = standalone_build("k", "cpp_standalone", fail)
    assert not cached.compiled and cached.results == tiny_build.results
    assert run_tiny(cached, tmp_path, stop_after_ms=STEPS_MS, seed=1)["v"].tolist() == [0.0] * 3


def test_build_key_changes_with_the_configuration_and_the_cpu(monkeypatch):
    fields = json.loads(cpu_identity())
    assert fields["machine"] and (
        "flags" in fields or "Features" in fields or not fields.get("model")
    )
    key = build_key({"n": 1})
    assert build_key({"n": 1}) == key != build_key({"n": 2})
    monkeypatch.setattr(build, "cpu_identity", lambda: "another CPU")
    assert build_key({"n": 1}) != key


def test_run_build_sets_arrays_and_scalars_and_reads_the_results(tiny_build, tmp_path):
    by_hand = run_tiny(tiny_build, tmp_path, stop_after_ms=10.0, seed=3, offset=5.0)
    results = run_build(
        tiny_build,
        {"tiny.v": np.ones(3)},
        {"tiny.offset": 5.0, "tiny.stop_after": 10e-3},
        seed=3,
    )
    assert results.keys() == by_hand.keys()
    for name, values in results.items():
        np.testing.assert_array_equal(values, by_hand[name])


def test_a_wrong_sized_run_time_array_is_an_error_not_a_silent_default(tiny_build):
    # Brian2 only prints a message for a file of the wrong size and runs on with old values.
    with pytest.raises(RuntimeError, match="could not read a run-time array"):
        run_build(tiny_build, {"tiny.v": np.ones(2)}, {}, seed=0)


def process_state(pid: int) -> str | None:
    """The state letter of a process (``Z``: ended, not yet reaped), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def child_running(parent: int, executable: Path) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and Path(f"/proc/{stat.parent.name}/exe").resolve() == (
                executable.resolve()
            ):
                return int(stat.parent.name)
        except (OSError, IndexError, ValueError):
            continue
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_a_binary_ends_when_the_process_that_started_it_is_killed(tiny_build, tmp_path):
    args = tiny_args(tmp_path, stop_after_ms=1e12)  # never stops on its own within the test
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, json, pathlib\n"
            "from neurosim.spiking.brian2_internals import run_binary\n"
            "run_binary(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), "
            "json.loads(sys.argv[3]))",
            str(tiny_build.binary_dir),
            str(tmp_path / "results"),
            json.dumps(args),
        ]
    )
    binary = None
    try:
        deadline = time.monotonic() + 60
        while binary is None and time.monotonic() < deadline and starter.poll() is None:
            binary = child_running(starter.pid, tiny_build.binary_dir / "main")
            time.sleep(0.05)
        assert binary is not None, "the binary did not start"
        time.sleep(0.5)  # well into its run
        assert process_state(binary) not in (None, "Z")
        starter.send_signal(signal.SIGKILL)  # no Python clean-up can run
        starter.wait()
        deadline = time.monotonic() + 10
        while process_state(binary) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_state(binary) in (None, "Z"), "the binary outlived its parent"
    finally:
        starter.kill()
        starter.wait()
        if binary is not None and process_state(binary) not in (None, "Z"):
            os.kill(binary, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_a_binary_whose_parent_already_ended_does_not_simulate(tiny_build, tmp_path):
    # The parent's death came before the binary could ask to be told: it names another parent
    # (a process that has ended, so it cannot be this binary's parent).
    ended = subprocess.Popen(["true"])
    ended.wait()
    with pytest.raises(RuntimeError, match="process that started this simulation has ended"):
        run_tiny(
            tiny_build,
            tmp_path,
            stop_after_ms=10.0,
            seed=1,
            environment={PARENT_VARIABLE: str(ended.pid)},
        )
    assert not any((tmp_path / "results").iterdir())  # nothing simulated, nothing written
