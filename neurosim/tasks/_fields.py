"""Checks for task settings, used in the tasks' ``__post_init__``.

Each helper reads ``task.<field>``, checks it, stores the normalised value back on the frozen task (floats,
tuples) and returns it. Errors name ``ClassName.field``, what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import as_seconds

__all__ = ["duration", "duration_or_range", "number", "number_range", "numbers_tuple"]


def _name(task, field: str) -> str:
    return f"{type(task).__name__}.{field}"


def _set(task, field: str, value):
    object.__setattr__(task, field, value)
    return value


def _seconds(value, name: str, allow_zero: bool) -> float:
    if allow_zero and isinstance(value, numbers.Real) and not isinstance(value, bool) and value == 0:
        return 0.0
    return as_seconds(value, name)


def duration(task, field: str, *, allow_zero: bool = False, min_steps: int = 1) -> float:
    """A time in seconds (a number or a Brian2 time) that is at least ``min_steps`` steps of ``task.dt``."""
    seconds = _seconds(getattr(task, field), _name(task, field), allow_zero)
    if seconds > 0 or not allow_zero:
        task.steps(seconds, field, minimum=min_steps)
    return _set(task, field, seconds)


def duration_or_range(task, field: str, *, min_steps: int = 1) -> float | tuple[float, float]:
    """A fixed duration in seconds, or a ``(low, high)`` pair of them to sample from per trial."""
    value = getattr(task, field)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{_name(task, field)}: expected a duration in seconds or a (low, high) pair, "
                             f"got {len(value)} values {value!r}")
        low, high = (as_seconds(v, _name(task, field)) for v in value)
        if low > high:
            raise ValueError(f"{_name(task, field)}: expected low <= high, got ({low}, {high}); swap them")
        task.steps(low, field, minimum=min_steps)
        return _set(task, field, (low, high))
    seconds = as_seconds(value, _name(task, field))
    task.steps(seconds, field, minimum=min_steps)
    return _set(task, field, seconds)


def number(task, field: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, integer: bool = False):
    """A finite real (or integer) in ``[low, high]``; ``low_open``/``high_open`` exclude the bound."""
    name = _name(task, field)
    value = getattr(task, field)
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        want = "an integer" if integer else "a number"
        raise TypeError(f"{name}: expected {want}, got {type(value).__name__} {value!r}")
    value = int(value) if integer else float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        interval = ("(" if low_open else "[") + f"{lo}, {hi}" + (")" if high_open else "]")
        raise ValueError(f"{name}: expected a value in {interval}, got {value!r}")
    return _set(task, field, value)


def numbers_tuple(task, field: str, *, length: int | None = None, low: float | None = None,
                  high: float | None = None, min_length: int = 1) -> tuple[float, ...]:
    """A tuple (or list) of finite reals, each in ``[low, high]``; stored as a tuple of floats."""
    name = _name(task, field)
    value = getattr(task, field)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name}: expected a tuple of numbers, got {type(value).__name__} {value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name}: expected {length} values, got {len(value)}: {value!r}")
    if len(value) < min_length:
        raise ValueError(f"{name}: expected at least {min_length} value(s), got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}: expected numbers, got {type(v).__name__} {v!r} in {value!r}")
        if not np.isfinite(v):
            raise ValueError(f"{name}: expected finite numbers, got {v!r} in {value!r}")
        if (low is not None and v < low) or (high is not None and v > high):
            raise ValueError(f"{name}: expected values in [{low}, {high}], got {v!r} in {value!r}")
        out.append(float(v))
    return _set(task, field, tuple(out))


def number_range(task, field: str, *, low: float | None = None, high: float | None = None,
                 strict: bool = True) -> tuple[float, float]:
    """A ``(low, high)`` pair of finite reals with low < high (``strict``) or low <= high."""
    pair = numbers_tuple(task, field, length=2, low=low, high=high)
    if pair[0] > pair[1] or (strict and pair[0] == pair[1]):
        op = "<" if strict else "<="
        raise ValueError(f"{_name(task, field)}: expected (low, high) with low {op} high, got {pair}")
    return pair

