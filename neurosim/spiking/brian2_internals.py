"""Every use of Brian2 beyond its documented user API, in one place.

The engine needs a few things Brian2 does not offer as public API: a simulation that ends
itself from generated C++ (``Network::_globally_stopped``), the seed of a compiled binary's
random generator, a binary that ends with the process that started it, the names of the raw
files a standalone binary writes, the binary's command line, and a time-step loop without
Brian2 2.9's per-step CPU-clock system call. A Brian2 upgrade that changes any of them should
break this module (and its tests, ``tests/test_brian2_internals.py``) and nothing else.

It also keeps Brian2's global state (the active device, the preferences the engine sets and
``defaultclock.dt``) as the caller left it: :func:`isolated_device` builds on a private device
instance and restores everything on the way out, so users can run their own Brian2 code
before and after ours in one process.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2.codegen.cpp_prefs import get_compiler_and_args
from brian2.core.variables import Variable
from brian2.devices.device import Device

__all__ = [
    "ResultFile",
    "compile_without_per_step_clock",
    "exit_with_parent",
    "isolated_device",
    "read_result",
    "result_file",
    "run_binary",
    "seed_from_environment",
    "stop_function",
]

# Brian2's device registry and device stack (the package attribute of the same name is the
# active-device proxy, so the module is looked up by name).
b2_device_module = importlib.import_module("brian2.devices.device")

# Environment variable through which a compiled binary receives the seed of its generator.
SEED_VARIABLE = "NEUROSIM_SEED"

# Environment variable through which a compiled binary receives the process id of the process
# that started it (see exit_with_parent).
PARENT_VARIABLE = "NEUROSIM_PARENT_PID"

# Brian2 preferences the engine may change while it builds or runs; restored afterwards.
_PREFERENCES = ("codegen.target", "codegen.cpp.extra_compile_args_gcc")


@contextmanager
def isolated_device(name: str, **options) -> Iterator[Device]:
    """Make a *new* instance of Brian2's device ``name`` active inside the block.

    Brian2's own device objects (``all_devices``), the previously active device with its
    build options, ``defaultclock.dt``, the preferences in ``_PREFERENCES`` and NumPy's
    global random state are restored on exit, also when the block raises. Objects created
    inside the block belong to the private instance, so they never appear in the user's
    standalone project.

    Parameters
    ----------
    name : str
        A registered device ("runtime", "cpp_standalone", "cuda_standalone").
    **options
        Passed to :func:`brian2.set_device` (``directory``, ``build_on_run``, ...).

    Yields
    ------
    Device
        The private device instance.
    """
    previous = b2.get_device()
    previous_build_on_run = getattr(previous, "build_on_run", True)
    previous_options = dict(getattr(previous, "build_options", {}) or {})
    previous_dt = previous.defaultclock.dt if previous.defaultclock is not None else None
    preferences = {key: b2.prefs[key] for key in _PREFERENCES}
    # brian2.seed reseeds NumPy's legacy global generator, which Brian2's numpy target draws from
    numpy_random_state = np.random.get_state()  # noqa: NPY002
    private = type(b2_device_module.all_devices[name])()
    b2.set_device(private, **options)
    try:
        yield private
    finally:
        # set_device pushed the previous device onto Brian2's stack; take it back off and make
        # it active again with its own options (reset_device would copy our dt onto it).
        stack = b2_device_module.previous_devices
        if stack and stack[-1][0] is previous:
            stack.pop()
        b2_device_module._do_set_device(previous, previous_build_on_run, **previous_options)
        if previous_dt is not None:
            previous.defaultclock.dt = previous_dt
        for key, value in preferences.items():
            b2.prefs[key] = value
        np.random.set_state(numpy_random_state)  # noqa: NPY002


def stop_function(stop: Callable[[], None]) -> b2.Function:
    """A Brian2 function ``stop_when(condition)`` that ends the run when ``condition`` > 0.

    It returns its argument. On the runtime device it calls ``stop()``; in generated C++ it
    sets ``Network::_globally_stopped``, which Brian2's standalone network loop checks after
    every time step.
    """

    def stop_when(condition):
        if np.any(condition):
            stop()
        return condition

    function = b2.Function(stop_when, arg_units=[1], return_unit=1, stateless=False)
    function.implementations.add_implementation(
        "cpp",
        """double neurosim_stop_when(double condition) {
            if (condition > 0.0) Network::_globally_stopped = true;
            return condition;
        }""",
        name="neurosim_stop_when",
    )
    return function


def seed_from_environment(device: Device) -> None:
    """Make a standalone binary seed its random generator from ``$NEUROSIM_SEED``, if set."""
    device.insert_code(
        "before_network_run",
        f'if (const char* _seed = std::getenv("{SEED_VARIABLE}")) '
        "brian::_random_generators[0].seed(std::stoull(_seed));",
    )


def exit_with_parent(device: Device) -> None:
    """Make a standalone binary end when the process that started it dies (Linux only).

    A Python process killed by a signal it cannot handle (SIGKILL, a notebook kernel's
    restart, SIGTERM's default action) would otherwise leave its binary simulating to the end
    of its chunk, minutes at large N. The binary asks the kernel for SIGTERM when its parent
    dies (``prctl(PR_SET_PDEATHSIG)``), and exits at once, before simulating, if its parent is
    not the process named in ``$NEUROSIM_PARENT_PID`` (the parent died before the request).
    The kernel's "parent" is the thread that started the binary; :func:`run_binary` keeps
    that thread waiting until the binary ends, and starts it directly (a wrapper process in
    between would make every run exit at once). Elsewhere builds are unchanged. The headers
    reach every generated file; ``<unistd.h>`` declares names such as ``read`` and ``sleep``,
    which no model here uses at file scope.
    """
    if not sys.platform.startswith("linux"):
        return
    device.headers.extend(["<sys/prctl.h>", "<unistd.h>"])
    device.insert_code(
        "before_start",
        "prctl(PR_SET_PDEATHSIG, SIGTERM);\n"
        f'if (const char* _parent = std::getenv("{PARENT_VARIABLE}")) {{\n'
        "    if (getppid() != (pid_t) std::stol(_parent)) {\n"
        '        std::cerr << "neurosim: the process that started this simulation has ended"'
        " << std::endl;\n"
        "        return 1;\n"
        "    }\n"
        "}",
    )


# Brian2 2.9's Network::run (brianlib's network.cpp template) reads the process's CPU time with
# std::clock() after every time step, for a run-time limit we never set; on Linux that is a
# system call (clock_gettime of the process CPU clock): in a profile of frozen N=100 evaluation
# (AMD EPYC, Linux 6), 17 % of the binary's samples were in the kernel, 4 % without the call.
# Brian2 2.10 reads a cheap monotonic clock there and 2.11 only when a limit or report needs it.
_PER_STEP_CPU_CLOCK = re.compile(
    r"\n[ \t]*current = std::clock\(\);\n"
    r"[ \t]*elapsed_realtime = \(double\)\(current - start\)/\(1 \* CLOCKS_PER_SEC\);\n"
)
_AFTER_RUN_LOOP = "    Network::_globally_running = false;\n"


def compile_without_per_step_clock(device: Device, directory: str) -> None:
    """Compile a generated standalone project, reading the CPU clock once per run, not per step.

    Call after ``device.build(directory=directory, compile=False)``. The elapsed time (Brian2's
    ``_last_run_time``) is still measured, once, after the loop. Projects whose network.cpp has
    no such per-step read, or checks a run-time limit, compile unchanged.
    """
    path = Path(directory) / "network.cpp"
    text = path.read_text()
    if (
        "elapsed_realtime>" not in text
        and len(_PER_STEP_CPU_CLOCK.findall(text)) == 1
        and text.count(_AFTER_RUN_LOOP) == 1
    ):
        text = _PER_STEP_CPU_CLOCK.sub("\n", text).replace(
            _AFTER_RUN_LOOP,
            "    elapsed_realtime = (double)(std::clock() - start) / CLOCKS_PER_SEC;\n"
            + _AFTER_RUN_LOOP,
        )
        path.write_text(text)
    compiler, _ = get_compiler_and_args()
    device.compile_source(directory, compiler, debug=False, clean=False)


@dataclass(frozen=True)
class ResultFile:
    """Where a standalone binary writes one variable, and how to read it.

    Attributes
    ----------
    file : str
        File name inside the results folder.
    dtype : str
        NumPy dtype of the raw values.
    columns : int or None
        Columns of a two-dimensional (monitor) variable, None for a flat one.
    """

    file: str
    dtype: str
    columns: int | None = None


def result_file(device: Device, variable: Variable) -> ResultFile:
    """Describe the raw results file of ``variable`` in a built standalone project."""
    size = variable.size
    columns = int(size[1]) if isinstance(size, tuple) and len(size) == 2 else None
    return ResultFile(
        file=device.get_array_filename(variable),
        dtype=np.dtype(variable.dtype).name,
        columns=columns,
    )


def read_result(results_dir: Path, entry: ResultFile) -> np.ndarray:
    """Read one variable from a results folder (rows x columns for a monitor variable).

    A run that stopped early wrote fewer monitor rows than the run's duration implies; the
    raw file always holds exactly the rows recorded.
    """
    values = np.fromfile(Path(results_dir) / entry.file, dtype=entry.dtype)
    return values if entry.columns is None else values.reshape(-1, entry.columns)


def run_binary(
    binary_dir: Path,
    results_dir: Path,
    run_args: list[str],
    *,
    environment: Mapping[str, str] | None = None,
) -> None:
    """Run a built standalone binary (``binary_dir/main``), writing into ``results_dir``.

    ``run_args`` are Brian2's ``name=value`` run arguments (``group.variable=file`` sets an
    array from a raw float64 file, ``group.variable=number`` a scalar). The environment is
    the process's plus Brian2's run-time variables plus this process's id (for
    :func:`exit_with_parent`) plus ``environment``; the process's own environment is left
    unchanged.

    Raises
    ------
    RuntimeError
        If the binary fails, or could not read a run-time array from its file (Brian2 then
        only prints a message and runs on with the compiled values); the message holds the
        end of its output.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **b2.prefs["devices.cpp_standalone.run_environment_variables"],
        PARENT_VARIABLE: str(os.getpid()),
        **(environment or {}),
    }
    command = [str(Path(binary_dir) / "main"), "--results_dir", f"{results_dir}{os.sep}"]
    completed = subprocess.run(
        command + list(run_args),
        cwd=binary_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=False,
    )
    output = completed.stdout.decode(errors="replace")
    if completed.returncode != 0:
        raise RuntimeError(
            f"the compiled simulation in {binary_dir} failed with exit code "
            f"{completed.returncode}:\n{output[-2000:]}"
        )
    # Brian2's set_variable_from_file reports a wrong-sized or unreadable file and carries on.
    if "Error reading '" in output or "Could not read '" in output:
        raise RuntimeError(
            f"the compiled simulation in {binary_dir} could not read a run-time array:\n"
            f"{output[-2000:]}"
        )
