"""Compiled Brian2 builds: cache key, on-disk cache, lock, compiler flags, private copies.

A build is compiled once per configuration and machine and kept in :func:`build_cache_dir`,
under a key that hashes everything that changes the generated code or the binary: the source
of every module that generates code, Brian2's version, the configuration, the compiler and its
flags, and the CPU's identity (builds use ``-march=native``, so a binary made on one CPU may
hold instructions another lacks; a cache on a home folder shared by cluster nodes stays safe).
A finished build holds ``manifest.json`` (written last) naming the raw result files of the
variables the engine reads, so a cached build runs without generating any code.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import brian2 as b2
import numpy as np
import platformdirs
from brian2.core.variables import Variable

from neurosim.io import atomic_write
from neurosim.spiking.brian2_internals import (
    SEED_VARIABLE,
    ResultFile,
    compile_without_per_step_clock,
    exit_with_parent,
    isolated_device,
    read_result,
    result_file,
    run_binary,
    seed_from_environment,
)

__all__ = [
    "COMPILER_FLAGS",
    "FLUSH_DENORMALS_CODE",
    "StandaloneBuild",
    "build_cache_dir",
    "build_key",
    "run_build",
    "standalone_build",
]

# Flags for compiling the generated C++ (flags the compiler lacks are dropped by Brian2). Brian2's
# defaults keep GCC from vectorising the neuron state updates, where half of a training step's
# time goes (the excitatory layer's exponential-Euler update evaluates an exp per neuron):
# - Brian2 adds -fno-finite-math-only to -ffast-math, which hides glibc's vector exp (libmvec);
# - the update loop reads and writes 8 arrays through pointers copied from globals, whose
#   __restrict GCC ignores; proving them disjoint takes more run-time checks than GCC's default
#   limit of 10.
# With both changed GCC vectorises the update (about 3x faster on AVX-512). The vector exp may
# differ from the scalar one in the last bits, so spike trains need not match builds with
# Brian2's flags bit for bit (accuracy re-measured: benchmarks/RESULTS.md). Used for
# cpp_standalone builds only; brian2cuda keeps its own host-compiler flags.
COMPILER_FLAGS = (
    "-w",
    "-O3",
    "-ffast-math",
    "-march=native",
    "-std=c++11",
    "--param=vect-max-version-for-alias-checks=200",
)

# Start-up code of every build: flush denormal (subnormal) doubles to zero. Conductances and
# traces decay towards zero and would otherwise spend long stretches as denormals, which Intel
# cores process about 100x slower (measured there: 6-8x slower learning). -ffast-math sets
# these bits only when it is also passed to the linker, so the build sets them itself.
FLUSH_DENORMALS_CODE = """
#if defined(__x86_64__) || defined(__SSE2__)
__builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040); /* FTZ | DAZ */
#elif defined(__aarch64__)
{ unsigned long _fpcr; __asm__ __volatile__("mrs %0, fpcr" : "=r"(_fpcr));
  __asm__ __volatile__("msr fpcr, %0" : : "r"(_fpcr | (1UL << 24))); } /* FZ */
#endif
"""

# Modules whose source generates code: part of every build key (hashed once per process, so an
# edit while a process runs does not change that process's keys).
_CODE_MODULES = ("params.py", "model.py", "engine.py", "build.py", "brian2_internals.py")
_SOURCE_HASH = hashlib.sha256(
    b"".join(Path(__file__).with_name(name).read_bytes() for name in _CODE_MODULES)
).hexdigest()


def build_cache_dir() -> Path:
    """Folder holding compiled Brian2 builds (``NEUROSIM_BUILD_CACHE`` overrides it)."""
    if os.environ.get("NEUROSIM_BUILD_CACHE"):
        return Path(os.environ["NEUROSIM_BUILD_CACHE"])
    return Path(platformdirs.user_cache_dir("neurosim", appauthor=False)) / "brian2-builds"


@functools.cache
def compiler_identity() -> str:
    """First line of ``$CXX --version`` (make's default ``g++``), or why it is unknown."""
    compiler = os.environ.get("CXX", "g++")
    try:
        output = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{compiler}: {error.__class__.__name__}"
    return f"{compiler}: {output.splitlines()[0] if output else 'no version'}"


@functools.cache
def cpu_identity() -> str:
    """The CPU's architecture, model and instruction-set flags (what -march=native sees)."""
    fields = {"machine": platform.machine(), "processor": platform.processor()}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("vendor_id", "cpu family", "model", "model name", "flags", "Features"):
            fields[key] = value.strip()
    return json.dumps(fields, sort_keys=True)


def build_key(configuration: Mapping) -> str:
    """Hash of ``configuration`` plus everything else that changes the compiled binary."""
    description = {
        "configuration": configuration,
        "sources": _SOURCE_HASH,
        "brian2": b2.__version__,
        "compiler": compiler_identity(),
        "compiler_flags": COMPILER_FLAGS,
        "cpu": cpu_identity(),
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:20]


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class StandaloneBuild:
    """A compiled simulation ready to run.

    Attributes
    ----------
    binary_dir : Path
        Private copy of the binary and its data files (removed when the process exits).
    results : dict of str to ResultFile
        The raw result file of each variable the caller asked for.
    seconds : float
        Time taken to get the build (generation and compilation, or copying a cached one).
    compiled : bool
        Whether code was generated in this process (False: reused from the cache).
    """

    binary_dir: Path
    results: dict[str, ResultFile]
    seconds: float
    compiled: bool


Construct = Callable[[], tuple[b2.Network, b2.Quantity, Mapping[str, Variable]]]


def standalone_build(key: str, device: str, construct: Construct) -> StandaloneBuild:
    """Get the compiled build ``key``: from the cache, or generated and compiled now.

    Parameters
    ----------
    key : str
        From :func:`build_key`.
    device : {"cpp_standalone", "cuda_standalone"}
    construct : callable
        Creates the Brian2 objects in the active device and returns the network, the duration
        of one run and the variables whose result files the caller reads. Called only when the
        build is not cached, inside :func:`~neurosim.spiking.brian2_internals.isolated_device`.
    """
    start = time.perf_counter()
    build_dir = build_cache_dir() / key
    manifest = build_dir / "manifest.json"
    compiled = False
    with _exclusive_lock(build_dir.with_suffix(".lock")):
        if not (manifest.exists() and (build_dir / "main").exists()):
            _compile(build_dir, device, construct)
            compiled = True
        results = {
            name: ResultFile(**entry) for name, entry in json.loads(manifest.read_text()).items()
        }
        # Run from a private copy: another process may rebuild the shared folder (rewriting
        # its files) while this one simulates.
        private = Path(tempfile.mkdtemp(prefix="neurosim-build-"))
        shutil.copy2(build_dir / "main", private / "main")
        shutil.copytree(build_dir / "static_arrays", private / "static_arrays")
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return StandaloneBuild(private, results, time.perf_counter() - start, compiled)


def _compile(build_dir: Path, device: str, construct: Construct) -> None:
    """Generate and compile the project in ``build_dir``; write its manifest last."""
    with isolated_device(device, directory=str(build_dir), build_on_run=False) as private:
        network, duration, variables = construct()
        private.insert_code("before_start", FLUSH_DENORMALS_CODE)
        if device == "cpp_standalone":  # brian2cuda seeds cuRAND itself
            seed_from_environment(private)
            exit_with_parent(private)
            b2.prefs.codegen.cpp.extra_compile_args_gcc = list(COMPILER_FLAGS)
        network.run(duration)
        if device == "cpp_standalone":
            private.build(directory=str(build_dir), compile=False, run=False)
            compile_without_per_step_clock(private, str(build_dir))
        else:
            private.build(directory=str(build_dir), compile=True, run=False)
        results = {name: asdict(result_file(private, var)) for name, var in variables.items()}
    text = json.dumps(results, indent=1, sort_keys=True).encode()
    atomic_write(build_dir / "manifest.json", lambda handle: handle.write(text))


def run_build(
    build: StandaloneBuild,
    arrays: Mapping[str, np.ndarray],
    scalars: Mapping[str, float],
    *,
    seed: int,
) -> dict[str, np.ndarray]:
    """Run a compiled build once on run-time data and read its results.

    Parameters
    ----------
    build : StandaloneBuild
        From :func:`standalone_build`.
    arrays : mapping of str to ndarray
        Brian2 run-time names (``"group.variable"``, ``"timed_array.values"``) to their full
        values (written as raw float64 files; each must have the variable's compiled size).
    scalars : mapping of str to float
        Names to single values (set on every element).
    seed : int
        Seed of the binary's random generator (see
        :func:`~neurosim.spiking.brian2_internals.seed_from_environment`).

    Returns
    -------
    dict of str to ndarray
        The variables named in ``build.results``, by name.
    """
    run_dir = Path(tempfile.mkdtemp(prefix="neurosim-run-"))
    try:
        args = []
        for index, (name, values) in enumerate(arrays.items()):
            path = run_dir / f"array{index}"
            np.ascontiguousarray(values, dtype=np.float64).tofile(path)
            args.append(f"{name}={path}")
        args += [f"{name}={float(value)!r}" for name, value in scalars.items()]
        results = run_dir / "results"
        run_binary(build.binary_dir, results, args, environment={SEED_VARIABLE: str(int(seed))})
        return {name: read_result(results, entry) for name, entry in build.results.items()}
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
