"""Run the independent configurations of a sweep in parallel: locally or on a Dask cluster.

A sweep is a function applied to a list of configurations (network sizes, noise levels,
optimizers, seeds). Each call must depend only on its configuration (seeded), so the results
equal those of a sequential run whatever runs them:

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
    if backend == "sequential" or (backend == "joblib" and jobs == 1):
        return [function(task) for task in tasks]
    calls = (joblib.delayed(function)(task) for task in tasks)
    if backend == "joblib":
        logger.info("sweep: %d configurations on %d local processes", len(tasks), jobs)
        return list(joblib.Parallel(n_jobs=jobs)(calls))
    with _dask_client(address, jobs) as client:
        logger.info("sweep: %d configurations on Dask cluster %s", len(tasks), client)
        with joblib.parallel_backend("dask"):
            return list(joblib.Parallel()(calls))
