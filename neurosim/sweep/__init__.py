"""Sweeps: a model spec, an experiment or a function mapped over a grid of parameters times seeds, run on a
local process pool (or serially, or on a Dask cluster), resumable after a kill. See :mod:`.spec` for the
SWEEP.toml format, :mod:`.jobs` for what a job is, :mod:`.runner` for the files written, and docs/sweep.md.

    import neurosim.sweep
    result = neurosim.sweep.run("sweeps/memory_vs_delay.toml", workers=2)       # local pool
    result = neurosim.sweep.run("sweeps/memory_vs_delay.toml", executor="dask", workers=2)   # Dask LocalCluster
    result = neurosim.sweep.run("sweeps/memory_vs_delay.toml", scheduler="tcp://10.0.0.5:8786")  # a cluster
"""

from .jobs import Job, execute, job_id
from .runner import SweepRun, run
from .spec import Sweep, SweepError, load_sweep, parse_sweep

__all__ = ["run", "SweepRun", "load_sweep", "parse_sweep", "Sweep", "SweepError", "Job", "job_id", "execute"]
