"""Brian2 devices, code-generation targets and Brian2's global state, handled in one place.

Brian2 keeps global state: the active device, preferences (code-generation target, Cython cache directory,
OpenMP threads), numpy's global random state (its runtime random numbers come from ``np.random``) and, for
``cpp_standalone``, the project being built. :func:`session` sets all of it up for one simulation and restores
it afterwards, whatever happens in between, so that ``simulate`` can be called many times in one process
(tests, notebooks) and never leaks a device or a preference into the caller's own Brian2 code.

Devices and targets::

    device="runtime",        target="cython"   Python drives the loop; each step runs compiled Cython code
    device="runtime",        target="numpy"    the same with numpy code: no compiler needed
    device="runtime",        target="auto"     cython when a compiler works, else numpy with one warning
    device="cpp_standalone"                     the whole run is one generated C++ program (target is ignored)

The Cython cache directory is, in order: the ``cache_dir`` argument, the environment variable
``NEUROSIM_BRIAN_CACHE``, Brian2's default (``~/.cython/brian_extensions``). A ``cpp_standalone`` project is built
in a fresh temporary directory (under ``cache_dir`` when one is given) and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

from .._validate import check_choice

__all__ = ["DEVICES", "TARGETS", "CACHE_ENV", "resolve_cache_dir", "resolve_target", "session", "Session",
           "CompilerError", "NoCompilerWarning", "allow_import_off_main_thread", "recorded"]

DEVICES = ("runtime", "cpp_standalone")
TARGETS = ("auto", "cython", "numpy")
CACHE_ENV = "NEUROSIM_BRIAN_CACHE"

# preferences a session may change; their values are restored when it ends
_PREFS = ("codegen.target", "codegen.runtime.cython.cache_dir", "devices.cpp_standalone.openmp_threads")


class CompilerError(RuntimeError):
    """Brian2 could not compile the generated code (no working C++ compiler, or a broken toolchain)."""


class NoCompilerWarning(UserWarning):
    """target="auto" found no working compiler and runs Brian2 with numpy code generation instead of Cython."""


_CYTHON_WORKS: bool | None = None  # the answer of Brian2's test compilation, asked once per process


def resolve_target(target: str = "auto") -> str:
    """The runtime code-generation target for ``target``: "cython" and "numpy" as given; "auto" is "cython" when
    a test compilation succeeds (Brian2's own check, run once per process) and otherwise "numpy", with one
    :class:`NoCompilerWarning` per process. Call it where the Brian2 preferences (cache directory) are set."""
    global _CYTHON_WORKS
    check_choice(target, TARGETS, "target")
    if target != "auto":
        return target
    if _CYTHON_WORKS is None:
        from brian2.codegen.runtime.cython_rt.cython_rt import CythonCodeObject
        from brian2.utils.logger import catch_logs

        with catch_logs():  # Brian2 logs its own multi-line warning; ours below is the one the user sees
            _CYTHON_WORKS = bool(CythonCodeObject.is_available())
        if not _CYTHON_WORKS:
            warnings.warn("target='auto': no working C compiler (Brian2's test compilation failed), so Brian2 runs "
                          "with numpy code generation: same results, slower. Install gcc or clang and the Python "
                          "headers for Cython, or pass target='numpy' (--target numpy) to silence this",
                          NoCompilerWarning, stacklevel=2)
    return "cython" if _CYTHON_WORKS else "numpy"


def recorded(monitor, name: str, dtype=None):
    """A copy of what a Brian2 monitor recorded (``monitor.<name>``, e.g. ``"x_"``, ``"t_"``, ``"i"``), taken now.

    Since Brian2 2.10 the runtime device keeps monitors' recordings in C++ dynamic arrays, and the numpy array
    an attribute returns is a view whose memory may be reused once the accessor's temporaries are gone: holding
    the view and copying it later gave a wrong sample (a state of 1e-15 instead of -0.97 at one step of 500, a
    FORCE readout of 1e277) on brian2 2.11, depending on what was allocated in between. Every read of a monitor
    in neurosim goes through here and copies at once.
    """
    import numpy as np

    return np.array(getattr(monitor, name)[:], dtype=dtype, copy=True)


def allow_import_off_main_thread() -> None:
    """Let Brian2 be imported first in a thread other than the main one (Dask runs jobs in worker threads).

    Brian2's import installs a SIGINT handler (so that Ctrl-C stops a run cleanly), and Python allows
    ``signal.signal`` only in the main thread. After this call (made once per worker process, in its main thread),
    that one call, from Brian2's own module outside the main thread, leaves the handler as it is instead of
    raising: a worker whose jobs run in threads is stopped by its nanny, not by Ctrl-C. Every other caller of
    ``signal.signal`` is unaffected. Importing Brian2 eagerly instead would cost each worker ~1.5 s at start.
    """
    import signal
    import sys
    import threading

    original = signal.signal
    if getattr(original, "_neurosim_off_main_thread", False):
        return

    def tolerant(signalnum, handler):
        if (threading.current_thread() is not threading.main_thread()
                and sys._getframe(1).f_globals.get("__name__") == "brian2"):
            return signal.getsignal(signalnum)  # Brian2's Ctrl-C handler stays uninstalled in this thread
        return original(signalnum, handler)

    tolerant._neurosim_off_main_thread = True
    signal.signal = tolerant


def resolve_cache_dir(path=None) -> str | None:
    """The Cython cache directory: ``path``, else ``$NEUROSIM_BRIAN_CACHE``, else None (Brian2's default)."""
    path = path if path is not None else os.environ.get(CACHE_ENV) or None
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"cache_dir: expected a directory path (str), got {type(path).__name__} {path!r}")
    path = os.path.abspath(os.fspath(path))
    os.makedirs(path, exist_ok=True)
    return path


@dataclass
class Session:
    """What a running session knows: the device, the target, the build directory and timings (seconds)."""

    device: str
    target: str
    cache_dir: str | None
    directory: str | None = None  # cpp_standalone project directory (removed when the session ends)
    timings: dict = field(default_factory=dict)
    device_object: object = None  # with session(keep=True): the standalone device that owns the build

    @property
    def standalone(self) -> bool:
        return self.device == "cpp_standalone"

    def run(self, network, duration, namespace: dict) -> float:
        """Run ``network`` for ``duration``; return the seconds spent in the simulation loop itself.

        runtime: code generation and compilation happen inside ``Network.run`` before its loop; Brian2 times
        the loop alone. cpp_standalone: ``Network.run`` only records the run; the project is then generated and
        compiled (``timings['compile']``) and the binary run (``timings['binary']``, which includes loading the
        arrays); the loop time is what the binary measured. ``timings['compile_cpu']`` and ``['binary_cpu']``
        are the CPU seconds of those child processes.
        """
        import brian2

        network.run(duration, namespace=namespace)
        if not self.standalone:
            return float(brian2.get_device()._last_run_time)
        dev = brian2.get_device()
        start, cpu = time.perf_counter(), _children_cpu()
        dev.build(directory=self.directory, compile=True, run=False, with_output=False)
        self.timings["compile"] = time.perf_counter() - start
        self.timings["compile_cpu"] = _children_cpu() - cpu
        start, cpu = time.perf_counter(), _children_cpu()
        dev.run(directory=self.directory, with_output=False)
        self.timings["binary"] = time.perf_counter() - start
        self.timings["binary_cpu"] = _children_cpu() - cpu  # CPU seconds of the binary (a shared machine's
        return float(dev._last_run_time)                    # wall times include other jobs' share)


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (the compiler, the standalone binary); 0 if unknown."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Unix
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _chain(err):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _is_compiler_failure(err) -> bool:
    for e in _chain(err):
        name = type(e).__name__
        if name in ("CompileError", "LinkError", "DistutilsExecError", "CCompilerError"):
            return True
        if isinstance(e, RuntimeError) and "compilation failed" in str(e):
            return True
    return False


def _root_message(err) -> str:
    *_, root = _chain(err)
    text = str(root).strip().splitlines()
    line = text[-1] if text else ""
    return f"{type(root).__name__}: {line[:300]}{'...' if len(line) > 300 else ''}"


@contextmanager
def session(device: str = "runtime", target: str = "auto", *, cache_dir=None, keep: bool = False):
    """Set Brian2 up for one simulation; on exit restore the device, the preferences and the random state.

    Yields a :class:`Session`. ``device`` is "runtime" or "cpp_standalone", ``target`` "auto", "cython" or
    "numpy" (runtime only; "auto": :func:`resolve_target`). Never nest sessions.

    ``keep=True`` (cpp_standalone only) builds into a device object of its own (``Session.device_object``) and
    leaves it and the project directory alive when the session ends, so that the compiled binary can be run
    again later (``device_object.run(directory=..., run_args=...)``) while Brian2's global device is back to what
    it was; the caller removes the directory (:mod:`neurosim.brian.standalone` does). On an error both go.
    """
    check_choice(device, DEVICES, "device")
    check_choice(target, TARGETS, "target")
    cache = resolve_cache_dir(cache_dir)
    import brian2
    from brian2.devices.device import reset_device, runtime_device

    prefs = brian2.prefs
    saved = {k: prefs[k] for k in _PREFS}
    runtime = runtime_device
    random_state = runtime.get_random_state()  # includes numpy's global state, which Brian2's seed() sets
    if keep and device != "cpp_standalone":
        raise ValueError(f"session(keep=True) keeps a compiled cpp_standalone build; device {device!r} has none")
    sess = Session(device, target if device == "runtime" else "cpp", cache)
    kept = False
    try:
        if cache is not None:
            prefs["codegen.runtime.cython.cache_dir"] = cache
        if device == "runtime":
            sess.target = target = resolve_target(target)  # after the cache directory: the test compiles there
            prefs["codegen.target"] = target
            brian2.set_device("runtime")
        else:
            # the dense coupling of the standalone device relies on a sequential neuron loop: no OpenMP
            prefs["devices.cpp_standalone.openmp_threads"] = 0
            sess.directory = tempfile.mkdtemp(prefix="neurosim_brian_", dir=cache)
            if keep:
                from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

                sess.device_object = CPPStandaloneDevice()  # not Brian2's shared instance, which others reinit
            brian2.set_device(sess.device_object or "cpp_standalone", build_on_run=False, directory=sess.directory)
        try:
            yield sess
            kept = keep
        except Exception as err:  # translated when it is a compiler failure, re-raised unchanged otherwise
            if _is_compiler_failure(err):
                where = f"device={device!r}" + (f", target={target!r}" if device == "runtime" else "")
                raise CompilerError(
                    f"simulate({where}): Brian2 could not compile the generated code ({_root_message(err)}). "
                    "Check that a C++ compiler works (gcc or clang on the PATH, Python headers installed), or "
                    "run without compiling: device='runtime', target='numpy'") from err
            raise
    finally:
        if device == "cpp_standalone" and not kept:
            brian2.get_device().reinit()
        reset_device()  # back to the device that was active before this session
        for k, v in saved.items():
            prefs[k] = v
        runtime.set_random_state(random_state)
        if sess.directory is not None and not kept:
            shutil.rmtree(sess.directory, ignore_errors=True)
