"""Which time loops the cells run: the compiled kernels or numpy's.

:mod:`neurosim.ann._kernels` (Cython and C, built by setup.py when neurosim is installed) runs the forward and
backward time loops of the LSTM, the GRU and the rate-form rnn with tanh; the numpy loops in :mod:`.lstm`,
:mod:`.gru` and :mod:`.rnn` compute the same numbers (the gated cells' to round-off, the rnn's bit for bit) and
are the reference. ``NEUROSIM_KERNELS=numpy`` in the environment selects numpy's loops (read at every call, so a
test can switch); without the compiled module (an install that did not build it) they run anyway.
"""

from __future__ import annotations

import os

try:
    from . import _kernels
except ImportError as error:  # not built: numpy's loops
    _kernels, BUILD_ERROR = None, error
else:
    BUILD_ERROR = None

__all__ = ["kernels", "BUILD_ERROR"]


def kernels():
    """The compiled kernels module, or None when it is not built or ``NEUROSIM_KERNELS=numpy``."""
    if os.environ.get("NEUROSIM_KERNELS", "").strip().lower() == "numpy":
        return None
    return _kernels
