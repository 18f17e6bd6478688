"""The sequence-task library: prediction, generation, memory and decision tasks that feed every substrate."""

from .base import Task, Trials, describe, get, make, names, primary_metric, register, regression_metrics
from . import decision, generation, memory, periodic, prediction  # noqa: E402,F401  (importing registers the tasks)

__all__ = ["Task", "Trials", "describe", "get", "make", "names", "register", "regression_metrics", "primary_metric"]
