"""Shared test set-up.

- One BLAS thread. The suite runs many small matrix products; on a 2-core machine a multi-threaded BLAS spends
  more time synchronising its threads than computing (measured here: a (64 x 3360) @ (3360 x 64) product took
  0.6 ms on one thread and up to 230 ms on two under load). This must happen before numpy is first imported,
  hence at the top of conftest.
- One Brian2 compilation cache for every test, notebook and command the tests run (``$NEUROSIM_BRIAN_CACHE``,
  default: a directory in the system's temp folder), so each generated module is compiled once per machine.
"""

import os
import tempfile

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("NEUROSIM_BRIAN_CACHE", os.path.join(tempfile.gettempdir(), "neurosim-brian2-cache"))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def cache():
    """The Brian2 compilation cache directory shared by the whole test session."""
    os.makedirs(os.environ["NEUROSIM_BRIAN_CACHE"], exist_ok=True)
    return os.environ["NEUROSIM_BRIAN_CACHE"]
