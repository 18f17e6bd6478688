"""Build neurosim's one compiled module, neurosim.ann._kernels (the cells' time loops, Cython + C).

Everything else is in pyproject.toml. The module is compiled for this machine: -O3, and on x86-64
-march=native, as Brian2 compiles its generated code (set NEUROSIM_PORTABLE_BUILD=1 for a binary that runs on
any CPU of the architecture). Without it neurosim runs the same loops in numpy, more slowly
(neurosim.ann._compiled).
"""

import os
import platform
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-adds, so that the rnn's loops round as numpy's do, operation by operation
flags = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off"]
if (platform.machine().lower() in ("x86_64", "amd64") and sys.platform != "win32"
        and os.environ.get("NEUROSIM_PORTABLE_BUILD", "") in ("", "0")):
    flags.append("-march=native")

kernels = Extension("neurosim.ann._kernels", ["neurosim/ann/_kernels.pyx"], depends=[
    "neurosim/ann/_kernels.h", "neurosim/ann/_kernels_impl.h"], extra_compile_args=flags)

setup(ext_modules=cythonize([kernels], compiler_directives={"language_level": 3}))
