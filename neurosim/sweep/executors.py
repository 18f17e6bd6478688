"""Executors behind one interface, ``concurrent.futures.Executor.submit``: serial, a local process pool, Dask.

- ``serial``: :class:`SerialExecutor` runs each job in this process when it is submitted (debugging, profiling).
- ``process`` (the default): a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` processes started
  with ``spawn`` (fresh interpreters: no Brian2 or BLAS state inherited from the caller).
- ``dask``: ``distributed.Client.get_executor()``, on an existing cluster (``scheduler`` address) or on a
  LocalCluster of ``workers`` processes; only :mod:`neurosim.sweep.dask_executor` imports Dask.

Workers compute with one BLAS thread each (``OPENBLAS/OMP/MKL_NUM_THREADS=1`` in their environment, unless the
caller set them): N workers on N cores are faster so, and the serial executor limits this process's BLAS to one
thread too (through threadpoolctl when installed), so that all three give the same bits.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from contextlib import contextmanager, nullcontext

__all__ = ["SerialExecutor", "executor", "EXECUTORS", "BLAS_VARIABLES"]

EXECUTORS = ("serial", "process", "dask")
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(1)


class SerialExecutor(cf.Executor):
    """Runs each submitted call at once, in this process; returns an already finished Future."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            result = fn(*args, **kwargs)
        except BaseException as err:  # handed to the caller through the Future, as any executor does
            future.set_exception(err)
        else:
            future.set_result(result)
        return future


@contextmanager
def _worker_environment():
    """The BLAS variables set to 1 (unless set already) while workers start; restored afterwards."""
    saved = {k: os.environ.get(k) for k in BLAS_VARIABLES}
    for k in BLAS_VARIABLES:
        os.environ.setdefault(k, "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _ready():
    return os.getpid()


@contextmanager
def executor(kind: str = "process", workers: int | None = None, scheduler: str | None = None):
    """Yield ``(executor, n_workers)``; shut everything down on exit. See the module docstring."""
    if kind not in EXECUTORS:
        raise ValueError(f"sweep executor: expected one of {list(EXECUTORS)}, got {kind!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"sweep workers: expected an integer >= 1, got {workers!r}")
    if kind == "serial":
        with _one_blas_thread():
            yield SerialExecutor(), 1
        return
    if kind == "dask":
        from .dask_executor import dask_executor

        with _worker_environment(), dask_executor(scheduler=scheduler, n_workers=workers) as (ex, n):
            yield ex, n
        return
    n = workers or os.cpu_count() or 1
    with _worker_environment():
        pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        cf.wait([pool.submit(_ready) for _ in range(n)])  # start the workers inside the environment above
    try:
        yield pool, n
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
