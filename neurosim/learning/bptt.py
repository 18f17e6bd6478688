"""Backpropagation through time as a learning rule, and :func:`train`, its front door (``neurosim.train``).

Each step samples a minibatch (fresh trials from a Task, or shuffled from fixed Trials), asks
:func:`neurosim.ann.loss_and_grads` for the exact gradient, clips it by global norm, steps the optimizer
(:mod:`.optimizers`) and re-applies the network's constraints (connectivity mask, Dale's law) with
``net.project``. The parameters live as arrays between steps; the network is rebuilt without validation
(``net.evolve``) for the next gradient, and validated once at the end. The loop, the history, early stopping
and the guards are :mod:`.loop`'s. The input network is never mutated.
"""

from __future__ import annotations

import numpy as np

from .. import ann
from .._validate import as_rng, check_fits, check_positive
from ..tasks import Task, Trials, primary_metric
from . import loop
from .optimizers import clip_by_global_norm, make_optimizer

__all__ = ["BPTT", "train", "prepare"]


class BPTT:
    """The BPTT rule over minibatches of ``data`` (a Task or fixed Trials); see the module docstring."""

    name = "bptt"

    def __init__(self, net, data: Task | Trials, *, optimizer, batch_size: int, clip: float | None,
                 loss_kw: dict, dropout: float, data_rng, noise_rng):
        self.net, self.data, self.optimizer = net, data, optimizer
        self.batch_size, self.clip, self.loss_kw, self.dropout = batch_size, clip, loss_kw, dropout
        self.data_rng, self.noise_rng = data_rng, noise_rng
        self.params = {k: getattr(net, k) for k in net.trainable}
        self.state = optimizer.init(self.params)
        self._order = np.empty(0, dtype=int)

    def _batch(self) -> Trials:
        if isinstance(self.data, Task):
            return self.data.sample(self.batch_size, rng=self.data_rng)
        if len(self._order) < self.batch_size:
            self._order = np.concatenate([self._order, self.data_rng.permutation(self.data.n_trials)])
        idx, self._order = self._order[:self.batch_size], self._order[self.batch_size:]
        return self.data[idx]

    def gradient(self, batch: Trials) -> tuple[float, dict]:
        """``(loss, grads)`` of the current network on one minibatch: exact BPTT. A stacked trainer
        (:mod:`neurosim.ann.stacked`) replaces it on the instance, to compute several networks' at once."""
        return ann.loss_and_grads(self.net, batch, dropout=self.dropout, rng=self.noise_rng, **self.loss_kw)

    def step(self, i: int) -> tuple[float, float]:
        value, grads = self.gradient(self._batch())
        grads, norm = clip_by_global_norm(grads, self.clip)
        if not np.isfinite(value):
            raise loop.NonFinite("loss")
        if not np.isfinite(norm):
            raise loop.NonFinite("gradient")
        params, state = self.optimizer.update(grads, self.state, self.params)
        params = self.net.project({k: np.asarray(v, dtype=self.net.dtype) for k, v in params.items()})
        if not all(np.all(np.isfinite(v)) for v in params.values()):
            raise loop.NonFinite("weights after the update")
        self.params, self.state = params, state
        self.net = self.net.evolve(**params)
        return value, norm

    def snapshot(self) -> dict:
        return {k: v.copy() for k, v in self.params.items()}

    def network(self, params: dict | None = None):
        return self.net.replace(**(self.params if params is None else params))


def train(net, data: Task | Trials, steps: int = 1000, *, optimizer="adam", lr: float = 1e-3,
          batch_size: int = 32, clip: float | None = 1.0, momentum: float = 0.9, loss: str | None = None,
          l2: float = 0.0, l2_rate: float = 0.0, dropout: float = 0.0, validation: int | float | Trials = 0,
          eval_every: int = 50, patience: int | None = None, divergence: float | None = loop.DIVERGENCE,
          task: Task | None = None, rng=0, progress: bool = True):
    """Train ``net`` by BPTT on ``data``; returns ``(new_net, history)``.

    data: a :class:`~neurosim.tasks.Task` (a fresh minibatch of ``batch_size`` trials each step; ``validation``
      is then a number of held-out trials, sampled once) or fixed :class:`~neurosim.tasks.Trials` (shuffled
      minibatches; ``validation`` is then a fraction in (0, 1) of the trials held out, or a Trials set).
    optimizer: "adam" (with ``lr``), "sgd" (with ``lr`` and ``momentum``), or an optimizer object
      (:mod:`neurosim.learning.optimizers`).
    Validation runs every ``eval_every`` steps on the task's metric (accuracy for decisions, NRMSE otherwise;
    the loss for bare Trials unless ``task`` is given); with ``patience`` it stops after that many
    evaluations without improvement and returns the best network (as Keras' restore_best_weights).
    A non-finite loss, gradient or update stops training with a warning and returns the last finite network; a
    training loss above ``divergence`` times its first value stops it with a warning and returns the network of
    the lowest training loss. Same ``rng``, bit-identical weights.
    """
    rule, loop_kw = prepare(net, data, optimizer=optimizer, lr=lr, batch_size=batch_size, clip=clip,
                            momentum=momentum, loss=loss, l2=l2, l2_rate=l2_rate, dropout=dropout,
                            validation=validation, eval_every=eval_every, patience=patience, divergence=divergence,
                            task=task, rng=rng, progress=progress)
    return loop.run(rule, steps, **loop_kw)


def prepare(net, data: Task | Trials, *, optimizer="adam", lr: float = 1e-3, batch_size: int = 32,
            clip: float | None = 1.0, momentum: float = 0.9, loss: str | None = None, l2: float = 0.0,
            l2_rate: float = 0.0, dropout: float = 0.0, validation: int | float | Trials = 0, eval_every: int = 50,
            patience: int | None = None, divergence: float | None = loop.DIVERGENCE, task: Task | None = None,
            rng=0, progress: bool = True) -> tuple[BPTT, dict]:
    """What :func:`train` runs: the BPTT rule and the keyword arguments of :func:`.loop.run` (same arguments)."""
    if not isinstance(data, (Task, Trials)):
        raise TypeError(f"train: expected a Task or Trials as data, got {type(data).__name__}")
    if not hasattr(net, "trainable"):
        raise TypeError(f"train: expected a neurosim network (RateNetwork or GatedNetwork), got {type(net).__name__}")
    check_fits(net, data, "train data")
    batch_size = check_positive(batch_size, "train batch_size", integer=True)
    lr = check_positive(lr, "train lr")
    if clip is not None:
        clip = check_positive(clip, "train clip")
    momentum = check_positive(momentum, "train momentum", allow_zero=True)  # checked for every optimizer
    if momentum >= 1:
        raise ValueError(f"train momentum: expected a number in [0, 1), got {momentum!r}; with momentum >= 1 "
                         "SGD's velocity never decays")
    opt = make_optimizer(optimizer, lr=lr, momentum=momentum)
    loss_kw = {"loss": loss, "l2": l2, "l2_rate": l2_rate}

    rng = as_rng(rng)
    data_rng, noise_rng, val_seed = rng.spawn(2) + [int(rng.integers(2**31))]
    if isinstance(data, Task):
        task = data
        n_val = check_positive(validation, "train validation (number of trials)", integer=True, allow_zero=True)
        val = task.sample(n_val, rng=val_seed) if n_val else None
        train_set = data
    else:
        train_set, val = _split(data, validation, data_rng)
    if val is not None:
        check_fits(net, val, "train validation")
    for name, trials in (("train data", train_set), ("train validation", val)):
        if isinstance(trials, Trials) and not trials.mask.any():
            raise ValueError(f"{name}: Trials.mask is all zero, so no step is scored and the loss is 0 whatever "
                             "the weights; set mask = 1 where the outputs should match the targets")
    metric, higher = primary_metric(task)

    def validate(candidate):
        vloss, _ = ann.loss_and_grads(candidate, val, rng=val_seed, **loss_kw)
        if task is None:
            return vloss, {"loss": vloss}
        _, outputs = ann.forward(candidate, val.inputs, rng=val_seed)
        return vloss, task.score(outputs, val)

    rule = BPTT(net, train_set, optimizer=opt, batch_size=batch_size, clip=clip, loss_kw=loss_kw, dropout=dropout,
                data_rng=data_rng, noise_rng=noise_rng)
    return rule, dict(validate=validate if val is not None else None, metric=metric, higher=higher,
                      eval_every=eval_every, patience=patience, divergence=divergence, progress=progress,
                      desc="train", name=rule.name)


def _split(trials: Trials, validation, rng) -> tuple[Trials, Trials | None]:
    if isinstance(validation, Trials):
        return trials, validation
    frac = check_positive(validation, "train validation (fraction of the trials)", allow_zero=True)
    if frac == 0:
        return trials, None
    n_val = int(round(frac * trials.n_trials))
    if not 0 < n_val < trials.n_trials:
        raise ValueError(f"train validation: a fraction {frac} of {trials.n_trials} trials leaves no training or "
                         "no validation trials; use a fraction in (0, 1)")
    perm = rng.permutation(trials.n_trials)
    return trials[perm[n_val:]], trials[perm[:n_val]]
