"""Run the independent configurations of a sweep in parallel: locally or on a Dask cluster.

A sweep is a function applied to a list of configurations (network sizes, noise levels,
optimizers, seeds). Each call must depend only on its configuration (seeded), and each runs
with the same number of BLAS threads (``threads_per_task``) on every backend, because the
order of floating-point sums in a matrix product depends on it; so the results equal those
of a sequential run bit for bit, whatever runs them:

- ``backend="sequential"``: a plain loop in this process;
- ``backend="joblib"`` (default): joblib's process pool on this machine, ``n_jobs`` workers;
- ``backend="dask"``: joblib's Dask backend on a ``dask.distributed`` cluster, the one at
  ``address`` (e.g. ``tcp://scheduler:8786``, started with ``dask scheduler`` and
  ``dask worker tcp://scheduler:8786`` on the nodes) or, without an address, a local cluster
  of ``n_jobs`` worker processes. Needs the ``cluster`` extra: ``pip install 'neurosim[cluster]'``.
  Workers need neurosim installed and, for MNIST, ``NEUROSIM_DATA`` or a user cache of their
  own; compiled spiking builds are cached per worker machine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import joblib
from threadpoolctl import threadpool_limits

__all__ = ["BACKENDS", "run_sweep"]

logger = logging.getLogger(__name__)

BACKENDS = ("sequential", "joblib", "dask")

Config = TypeVar("Config")
Result = TypeVar("Result")


def _effective_jobs(n_jobs: int | None, n_tasks: int) -> int:
    available = os.cpu_count() or 1
    if n_jobs is None or n_jobs == 0:
        n_jobs = available
    elif n_jobs < 0:
        n_jobs = max(available + 1 + n_jobs, 1)
    return max(1, min(n_jobs, n_tasks))


class _WithThreads:
    """``function`` run under a fixed BLAS thread count (picklable, unlike a closure)."""

    def __init__(self, function: Callable[[Config], Result], threads: int) -> None:
        self.function = function
        self.threads = threads

    def __call__(self, configuration: Config) -> Result:
        with threadpool_limits(limits=self.threads):
            return self.function(configuration)


@contextmanager
def _dask_client(address: str | None, n_jobs: int) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install 'neurosim[cluster]' "
            "(or pip install 'dask[distributed]')"
        ) from error
    if address is not None:
        with Client(address) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=n_jobs, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_sweep(
    function: Callable[[Config], Result],
    configurations: Iterable[Config],
    *,
    backend: str = "joblib",
    n_jobs: int | None = None,
    address: str | None = None,
    threads_per_task: int = 1,
) -> list[Result]:
    """Apply ``function`` to every configuration, in parallel; results in input order.

    Parameters
    ----------
    function : callable
        Takes one configuration, returns a picklable result. Must be importable by the
        workers (a module-level function) and deterministic given its configuration.
    configurations : iterable
        Picklable configurations.
    backend : {"joblib", "sequential", "dask"}, default "joblib"
        Where the calls run (see the module documentation).
    n_jobs : int, optional
        Parallel workers for "joblib" and a local "dask" cluster; ``None`` uses every core,
        negative values count back from it as in joblib (-1: all, -2: all but one).
    address : str, optional
        Scheduler address of an existing Dask cluster (``backend="dask"`` only).
    threads_per_task : int, default 1
        BLAS threads of each call, on every backend (so that results do not depend on it).

    Returns
    -------
    list
        ``[function(c) for c in configurations]``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if address is not None and backend != "dask":
        raise ValueError(f"a scheduler address needs backend='dask', got backend={backend!r}")
    tasks = list(configurations)
    if not tasks:
        return []
    jobs = _effective_jobs(n_jobs, len(tasks))
    pinned = _WithThreads(function, threads_per_task)
    if backend == "sequential" or (backend == "joblib" and jobs == 1):
        return [pinned(task) for task in tasks]
    calls = (joblib.delayed(pinned)(task) for task in tasks)
    if backend == "joblib":
        logger.info("sweep: %d configurations on %d local processes", len(tasks), jobs)
        return list(joblib.Parallel(n_jobs=jobs)(calls))
    with _dask_client(address, jobs) as client:
        logger.info("sweep: %d configurations on Dask cluster %s", len(tasks), client)
        with joblib.parallel_backend("dask"):
            return list(joblib.Parallel()(calls))
