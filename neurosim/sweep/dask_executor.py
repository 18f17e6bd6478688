"""The Dask adapter: the only module of neurosim that imports Dask (lazily, when a Dask sweep starts).

``dask_executor(scheduler=ADDRESS)`` connects to an existing cluster (``tcp://host:8786``, or a scheduler file
path ending in ``.json``); ``dask_executor(n_workers=N)`` starts a LocalCluster of N worker processes with one
thread each and no memory budget (below), and closes it afterwards. Either way it yields ``Client.get_executor()``,
a ``concurrent.futures.Executor``. The jobs' results come back to this process, which writes them: the workers need
neurosim (the same version) importable, not the output directory.

Dask runs tasks in worker threads, and Brian2's import installs a signal handler, which Python allows only in a
main thread: a worker plugin calls :func:`neurosim.sweep.jobs.prepare_worker` in each worker's main thread (its
event loop) when the worker starts, including workers that join later, so that a job may import Brian2 in its
thread (:func:`neurosim.brian.devices.allow_import_off_main_thread`). Jobs that never touch Brian2 never import
it: importing it in every worker up front made a LocalCluster's start 1.8 s slower.

Install with ``pip install 'neurosim[dask]'``.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

__all__ = ["dask_executor", "LOCAL_CLUSTER_CONFIG", "LOCAL_CLUSTER_MEMORY_LIMIT"]

# The LocalCluster neurosim starts has no dashboard, so nothing reads the workers' statistical profiler (a thread
# sampling every job's stack every 10 ms) or their system monitor (every 0.5 s), and the event-loop tick (every
# 20 ms) only feeds "event loop unresponsive" warnings. Each wakes the worker's event loop, which then takes the GIL
# from the job's thread: measured here with one worker and one 4 s job of small numpy steps, the job ran 1.22-1.25x
# slower than in a process pool with the defaults and 1.02-1.10x with these (benchmarks/sweep.py).
# Worker saturation 1.0 keeps the jobs not yet running on the scheduler until a worker's thread frees up, as a
# process pool does. With Dask's default (1.1) the scheduler may send them to the workers as they arrive, half to
# each of two, and when one worker runs slower (this machine's two vCPUs differ by up to 1.3x) its queue outlasts
# the other's unless work stealing moves a job in time. Measured here with 8 jobs that sleep 1 s on one worker and
# 1.5 s on the other (ideal makespan 5.0 s): 6.0 s in 4 of 5 runs with 1.1, 5.0 s in 5 of 5 with 1.0 (the rest of
# Dask's configuration at its defaults; with the settings below, 1.1 balanced them in 5 of 5 fresh clusters, but
# split 8 real sweep jobs of 4-7 s 4 and 4 in 2 of 2 runs, where 1.0 gave the faster worker 5 in 1 of 2).
LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}
# No memory budget per worker (memory_limit=0), as in a process pool: with one, each worker and its nanny check
# the worker's memory every 100 ms (to spill, pause or restart it at 60-95% of the budget), which wakes the
# worker's event loop. Measured on a 2-vCPU KVM Xeon (2 workers, 4 toy jobs of 2.1-2.2 s each, three rounds):
# the jobs took 2.24-2.34 s in the workers with a budget, 2.22-2.23 s without, 2.12-2.19 s in a process pool.
LOCAL_CLUSTER_MEMORY_LIMIT = 0


def _prepare_plugin():
    """A WorkerPlugin (defined here so that distributed is imported only when a Dask sweep starts; cloudpickle
    sends the class by value)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class NeurosimPrepare(WorkerPlugin):
        name = "neurosim-prepare-worker"

        def setup(self, worker):
            from neurosim.sweep.jobs import prepare_worker

            prepare_worker()

    return NeurosimPrepare()


def _import():
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise ImportError("a Dask sweep (--dask-local or --scheduler) needs dask.distributed: "
                          "pip install 'neurosim[dask]'") from err
    return Client, LocalCluster


@contextmanager
def dask_executor(scheduler: str | None = None, n_workers: int | None = None):
    """Yield ``(executor, n_workers)`` on a Dask cluster; see the module docstring."""
    Client, LocalCluster = _import()
    cluster = None
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise ValueError(f"scheduler: expected an address such as 'tcp://10.0.0.5:8786' or a scheduler file "
                             f"(.json), got {scheduler!r}")
        client = (Client(scheduler_file=scheduler) if scheduler.endswith(".json") else Client(scheduler))
    else:
        import dask

        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=n_workers or 1, threads_per_worker=1, processes=True,
                                   memory_limit=LOCAL_CLUSTER_MEMORY_LIMIT, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        client.register_plugin(_prepare_plugin())
        n = len(client.scheduler_info().get("workers", {})) or (n_workers or 1)
        yield client.get_executor(pure=False), n
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
