"""What a benchmark ran on: CPU model, cores, versions, commit, and flush-to-zero of the builds.

Timings depend on the CPU (denormal arithmetic alone costs ~100x on Intel cores and little on
AMD ones), so every benchmark prints :func:`describe` first and quotes it with its figures.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import brian2 as b2
import numpy as np

from neurosim.spiking.build import FLUSH_DENORMALS_CODE, build_cache_dir
from neurosim.spiking.engine import STDPEngine
from neurosim.spiking.evaluation import available_cores


def cpu_model() -> str:
    """The CPU's model name with its family and model numbers (``/proc/cpuinfo``; virtual
    machines often show only a vendor name), or the platform's processor string elsewhere."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    flags = fields.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (
        f"{fields['model name']} (family {fields.get('cpu family', '?')} model "
        f"{fields.get('model', '?')}, {vector})"
    )


def commit() -> str:
    """The short hash of the checked-out commit ("" outside a git work tree)."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()


def describe() -> str:
    """One paragraph naming the machine, the software and the commit."""
    return (
        f"CPU {cpu_model()} ({available_cores()} cores usable), {sys.platform}, "
        f"python {platform.python_version()}, brian2 {b2.__version__}, numpy {np.__version__}, "
        f"commit {commit() or 'unknown'}"
    )


def flush_to_zero(engine: STDPEngine) -> str:
    """Whether the engine's compiled build sets flush-to-zero / denormals-are-zero at start."""
    if engine.device == "runtime":
        return "n/a (runtime device)"
    source = build_cache_dir() / engine.build_key() / "main.cpp"
    if not source.exists():
        return "unknown (build not in the cache)"
    text = source.read_text()
    lines = [line.strip() for line in FLUSH_DENORMALS_CODE.strip().splitlines()]
    return "on" if all(line in text for line in lines) else "OFF"
