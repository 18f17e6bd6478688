"""The training loop every learning rule shares: steps, history, progress bar, validation, early stopping and
the guard against non-finite values and divergence.

A learning rule is an object with three methods (BPTT in :mod:`.bptt`; FORCE, recursive least squares in the
running network, plugs in the same way)::

    rule.step(i) -> (loss, grad_norm or None)   # one update; the loss is measured before it. Raises
                                                # NonFinite, without committing the update, when the update
                                                # or its loss is not finite
    rule.snapshot() -> params                   # a copy of what the rule has learned so far (arrays only: the
                                                # divergence guard takes one before every step)
    rule.network(params=None) -> net            # a validated network from a snapshot (default: the current
                                                # params); called only to evaluate and at the end

The loop never rebuilds the network to take a step: the rule keeps its parameters as arrays. It stops when
``steps`` are done, when validation has not improved for ``patience`` evaluations (returning the best network,
as Keras' ``restore_best_weights``), when a step is not finite (returning the last finite network), or when the
training loss has grown beyond ``divergence`` times its first value (returning the network of the lowest
training loss seen). The last two warn (RuntimeWarning) and say so in ``History.stopped``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from .._validate import check_positive

__all__ = ["History", "NonFinite", "run", "DIVERGENCE"]

DIVERGENCE = 1e4  # the training loss may not exceed this multiple of its first value


class NonFinite(ArithmeticError):
    """Raised by a rule's ``step`` when the loss, the gradient or the updated parameters are not finite."""


@dataclass
class History:
    """What happened during training. ``metric`` is the validation metric the loop watched."""

    loss: list = field(default_factory=list)  # training loss per step (before that step's update)
    grad_norm: list = field(default_factory=list)  # global gradient norm per step, before clipping (BPTT)
    val_step: list = field(default_factory=list)  # steps at which validation ran
    val_loss: list = field(default_factory=list)
    val_metrics: list = field(default_factory=list)  # one dict of task metrics per validation
    metric: str = ""
    best_step: int | None = None
    rule: str = ""
    stopped: str = "completed"  # or "early stopping ...", "non-finite ..." or "diverged ..."

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def run(rule, steps: int, *, validate: Callable | None = None, metric: str = "loss", higher: bool = False,
        eval_every: int = 50, patience: int | None = None, divergence: float | None = DIVERGENCE,
        progress: bool = True, desc: str = "train", name: str = ""):
    """Run ``rule`` for ``steps`` steps; returns ``(net, history)``.

    validate: ``net -> (loss, metrics)``, run every ``eval_every`` steps and at the last step, watching
    ``metrics[metric]`` (``higher`` is better or not); patience: stop after that many evaluations without
    improvement and return the best network; divergence: stop when the training loss exceeds this multiple of
    its first value (None: never).
    """
    steps = check_positive(steps, f"{desc} steps", integer=True)
    eval_every = check_positive(eval_every, f"{desc} eval_every", integer=True)
    if patience is not None:
        patience = check_positive(patience, f"{desc} patience", integer=True)
    if divergence is not None:
        divergence = check_positive(divergence, f"{desc} divergence")
    history = History(metric=metric, rule=name)
    bar = tqdm(range(1, steps + 1), disable=not progress, desc=desc, unit="step", leave=False)
    try:
        return _loop(rule, bar, steps, history, validate, metric, higher, eval_every, patience, divergence, desc)
    finally:
        bar.close()


def _loop(rule, bar, steps, history, validate, metric, higher, eval_every, patience, divergence, desc):
    best_params, best_value, bad_evals = None, None, 0
    lowest, lowest_params = np.inf, None
    for step in bar:
        before = rule.snapshot() if divergence is not None else None  # what this step's loss is measured on
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # caught by the rule as NonFinite
                value, norm = rule.step(step)
        except NonFinite as err:
            history.stopped = f"non-finite {err} at step {step}; returned the last finite network (try a smaller " \
                              "lr, clip, or g)"
            warnings.warn(f"{desc}: {history.stopped}", RuntimeWarning, stacklevel=4)
            break
        history.loss.append(value)
        if norm is not None:
            history.grad_norm.append(norm)
        if divergence is not None:
            if value < lowest:
                lowest, lowest_params = value, before
            if value > divergence * history.loss[0]:
                history.stopped = (f"diverged at step {step}: the training loss {value:.3g} exceeds {divergence:g} "
                                   f"times its first value {history.loss[0]:.3g}; returned the network of the "
                                   f"lowest training loss ({lowest:.3g}; try a smaller lr or clip)")
                warnings.warn(f"{desc}: {history.stopped}", RuntimeWarning, stacklevel=4)
                return rule.network(lowest_params), history
        if validate is not None and (step % eval_every == 0 or step == steps):
            vloss, metrics = validate(rule.network())
            history.val_step.append(step)
            history.val_loss.append(vloss)
            history.val_metrics.append(metrics)
            current = metrics[metric]
            bar.set_postfix({"loss": f"{value:.4g}", f"val_{metric}": f"{current:.4g}"})
            if best_value is None or (current > best_value if higher else current < best_value):
                best_params, best_value, bad_evals, history.best_step = rule.snapshot(), current, 0, step
            else:
                bad_evals += 1
                if patience is not None and bad_evals >= patience:
                    history.stopped = (f"early stopping at step {step}: {metric} did not improve for {patience} "
                                       f"evaluations; returned the best network (step {history.best_step})")
                    break
        elif step % 10 == 0:
            bar.set_postfix(loss=f"{value:.4g}")
    if patience is not None and best_params is not None:
        return rule.network(best_params), history
    return rule.network(), history
