"""Shared test set-up.

The suite runs many small matrix products; on a 2-core machine a multi-threaded BLAS spends more time
synchronising its threads than computing (measured here: a (64 x 3360) @ (3360 x 64) product took 0.6 ms on
one thread and up to 230 ms on two under load). Tests therefore use one BLAS thread unless told otherwise.
This must happen before numpy is first imported, hence at the top of conftest.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
