"""The sequence-task library: prediction, generation, memory and decision tasks that feed every substrate."""

from .base import Task, Trials, describe, get, make, names, register, regression_metrics

__all__ = ["Task", "Trials", "describe", "get", "make", "names", "register", "regression_metrics"]
