"""Peak memory of the processes a benchmark starts (the compiled Brian2 simulations).

``resource.getrusage(RUSAGE_CHILDREN)`` cannot tell: a child forked from a large Python process
reports the parent's resident size at fork time. This watcher polls ``VmHWM`` (peak resident
size since exec) of every descendant process in ``/proc`` (Linux only) and keeps the maximum.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ChildPeakMemory:
    """Context manager: ``peak_mib`` is the largest peak RSS of any descendant seen meanwhile,
    filtered by executable name (``name``, e.g. "main" for Brian2's standalone binaries)."""

    def __init__(self, name: str = "main", interval: float = 0.05) -> None:
        self.name = name
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            for pid in _descendants(me):
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                if comm == self.name:
                    self.peak_mib = max(self.peak_mib, _peak_kib(pid) / 1024)

    def __enter__(self) -> ChildPeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
