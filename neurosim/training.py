"""Training by backpropagation through time (``neurosim.train`` is the function :func:`train` here): optimizers, the training loop and its history.

Optimizers are ``(init, update)`` pairs of pure functions (as in optax): ``init(params) -> state`` and
``update(grads, state, params, **hyper) -> (new_params, new_state)``. The loop samples data, asks
:func:`neurosim.ann.loss_and_grads` for exact gradients, clips them by global norm, steps the optimizer and
re-applies the network's constraints (connectivity mask, Dale's law). It never mutates its input network.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from . import ann
from ._validate import as_rng, check_choice, check_positive
from .tasks import Task, Trials, primary_metric

__all__ = ["train", "History", "adam_init", "adam_update", "sgd_init", "sgd_update", "OPTIMIZERS"]


# -- optimizers: pure (init, update) pairs ------------------------------------------------------------------

def adam_init(params: dict) -> dict:
    """Adam state: step count and first and second moment estimates (Kingma & Ba 2015)."""
    return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
            "v": {k: np.zeros_like(v) for k, v in params.items()}}


def adam_update(grads: dict, state: dict, params: dict, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step; returns (new_params, new_state). Works in the params' dtype."""
    t = state["t"] + 1
    c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
    new_params, m_new, v_new = {}, {}, {}
    for k, g in grads.items():
        m = beta1 * state["m"][k] + (1.0 - beta1) * g
        v = beta2 * state["v"][k] + (1.0 - beta2) * (g * g)
        new_params[k] = params[k] - (lr / c1) * m / (np.sqrt(v / c2) + eps)
        m_new[k], v_new[k] = m, v
    return new_params, {"t": t, "m": m_new, "v": v_new}


def sgd_init(params: dict) -> dict:
    """SGD-with-momentum state: the velocity of each parameter."""
    return {"velocity": {k: np.zeros_like(v) for k, v in params.items()}}


def sgd_update(grads: dict, state: dict, params: dict, *, lr=1e-2, momentum=0.9):
    """One step of SGD with (heavy-ball) momentum; returns (new_params, new_state)."""
    vel = {k: momentum * state["velocity"][k] - lr * g for k, g in grads.items()}
    return {k: params[k] + vel[k] for k in grads}, {"velocity": vel}


OPTIMIZERS = {"adam": (adam_init, adam_update), "sgd": (sgd_init, sgd_update)}


def clip_by_global_norm(grads: dict, max_norm: float | None) -> tuple[dict, float]:
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``; returns (grads, norm)."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    if max_norm and norm > max_norm:
        scale = max_norm / norm
        grads = {k: g * scale for k, g in grads.items()}
    return grads, norm


# -- history --------------------------------------------------------------------------------------------------

@dataclass
class History:
    """What happened during training. ``metric`` is the validation metric the loop watched."""

    loss: list = field(default_factory=list)  # training loss per step
    grad_norm: list = field(default_factory=list)  # global gradient norm per step, before clipping
    val_step: list = field(default_factory=list)  # steps at which validation ran
    val_loss: list = field(default_factory=list)
    val_metrics: list = field(default_factory=list)  # one dict of task metrics per validation
    metric: str = ""
    best_step: int | None = None
    stopped: str = "completed"  # or "early stopping ..." or "non-finite ..."

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _evaluate(net, trials: Trials, task: Task | None, loss_kw: dict, rng_seed: int) -> tuple[float, dict]:
    loss, _ = ann.loss_and_grads(net, trials, rng=rng_seed, **loss_kw)
    if task is None:
        return loss, {"loss": loss}
    _, outputs = ann.forward(net, trials.inputs, rng=rng_seed)
    return loss, task.score(outputs, trials)


def _check_sizes(net, data: Trials | Task) -> None:
    name = type(net).__name__
    if net.n_in != data.n_in:
        raise ValueError(f"{name}.n_in = {net.n_in} but the data has n_in = {data.n_in}; build the network with "
                         f"n_in = {data.n_in}")
    if net.n_out != data.n_out:
        raise ValueError(f"{name}.n_out = {net.n_out} but the data has n_out = {data.n_out}; build the network "
                         f"with n_out = {data.n_out}")
    if not np.isclose(net.dt, data.dt, rtol=1e-12, atol=0):
        raise ValueError(f"{name}.dt = {net.dt} s but the data has dt = {data.dt} s; build the network with the "
                         "task's dt")


def train(net, data: Task | Trials, steps: int = 1000, *, optimizer: str = "adam", lr: float = 1e-3,
          batch_size: int = 32, clip: float | None = 1.0, momentum: float = 0.9, loss: str | None = None,
          l2: float = 0.0, l2_rate: float = 0.0, dropout: float = 0.0, validation: int | float | Trials = 0,
          eval_every: int = 50, patience: int | None = None, task: Task | None = None, rng=0,
          progress: bool = True):
    """Train ``net`` by BPTT on ``data``; returns ``(new_net, history)``.

    data: a :class:`~neurosim.tasks.Task` (a fresh minibatch of ``batch_size`` trials each step; ``validation``
      is then a number of held-out trials, sampled once) or fixed :class:`~neurosim.tasks.Trials` (shuffled
      minibatches; ``validation`` is then a fraction in (0, 1) of the trials held out, or a Trials set).
    Validation runs every ``eval_every`` steps on the task's metric (accuracy for decisions, NRMSE otherwise;
    the loss for bare Trials unless ``task`` is given); with ``patience`` it stops after that many
    evaluations without improvement and returns the best network (as Keras' restore_best_weights).
    A non-finite loss or gradient stops training with a warning and returns the last finite network.
    Same ``rng``, bit-identical weights.
    """
    if not isinstance(data, (Task, Trials)):
        raise TypeError(f"train: expected a Task or Trials as data, got {type(data).__name__}")
    _check_sizes(net, data)
    steps = check_positive(steps, "train steps", integer=True)
    batch_size = check_positive(batch_size, "train batch_size", integer=True)
    lr = check_positive(lr, "train lr")
    eval_every = check_positive(eval_every, "train eval_every", integer=True)
    if clip is not None:
        clip = check_positive(clip, "train clip")
    if patience is not None:
        patience = check_positive(patience, "train patience", integer=True)
    check_choice(optimizer, OPTIMIZERS, "train optimizer")
    opt_init, opt_update = OPTIMIZERS[optimizer]
    hyper = {"lr": lr} if optimizer == "adam" else {"lr": lr, "momentum": momentum}
    loss_kw = {"loss": loss, "l2": l2, "l2_rate": l2_rate}

    rng = as_rng(rng)
    data_rng, noise_rng, val_seed = rng.spawn(2) + [int(rng.integers(2**31))]
    if isinstance(data, Task):
        task = data
        n_val = check_positive(validation, "train validation (number of trials)", integer=True, allow_zero=True)
        val = task.sample(n_val, rng=val_seed) if n_val else None
        train_set = None
    else:
        train_set, val = _split(data, validation, data_rng)
    metric, higher = primary_metric(task)
    history = History(metric=metric)
    if val is not None and task is not None:
        _check_sizes(net, val)

    params = {k: getattr(net, k) for k in net.trainable}
    state = opt_init(params)
    best, best_value, bad_evals = net, None, 0
    order = np.empty(0, dtype=int)
    bar = tqdm(range(1, steps + 1), disable=not progress, desc="train", unit="step", leave=False)
    for step in bar:
        if train_set is None:
            batch = task.sample(batch_size, rng=data_rng)
        else:
            if len(order) < batch_size:
                order = np.concatenate([order, data_rng.permutation(train_set.n_trials)])
            batch, order = train_set[order[:batch_size]], order[batch_size:]
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are caught just below
            value, grads = ann.loss_and_grads(net, batch, dropout=dropout, rng=noise_rng, **loss_kw)
            grads, norm = clip_by_global_norm(grads, clip)
        if not (np.isfinite(value) and np.isfinite(norm)):
            history.stopped = (f"non-finite {'loss' if not np.isfinite(value) else 'gradient'} at step {step}; "
                               "returned the last finite network (try a smaller lr, clip, or g)")
            warnings.warn(f"train: {history.stopped}", RuntimeWarning, stacklevel=2)
            break
        params, state = opt_update(grads, state, params, **hyper)
        candidate = net.constrain(**params)
        if not all(np.all(np.isfinite(getattr(candidate, k))) for k in net.trainable):
            history.stopped = f"non-finite weights after step {step}; returned the last finite network"
            warnings.warn(f"train: {history.stopped}", RuntimeWarning, stacklevel=2)
            break
        net = candidate
        params = {k: getattr(net, k) for k in net.trainable}
        history.loss.append(value)
        history.grad_norm.append(norm)
        if val is not None and (step % eval_every == 0 or step == steps):
            vloss, metrics = _evaluate(net, val, task, loss_kw, val_seed)
            history.val_step.append(step)
            history.val_loss.append(vloss)
            history.val_metrics.append(metrics)
            value_m = metrics[metric]
            bar.set_postfix({"loss": f"{value:.4g}", f"val_{metric}": f"{value_m:.4g}"})
            if best_value is None or (value_m > best_value if higher else value_m < best_value):
                best, best_value, bad_evals, history.best_step = net, value_m, 0, step
            else:
                bad_evals += 1
                if patience is not None and bad_evals >= patience:
                    history.stopped = (f"early stopping at step {step}: {metric} did not improve for {patience} "
                                       f"evaluations; returned the best network (step {history.best_step})")
                    break
        elif step % 10 == 0:
            bar.set_postfix(loss=f"{value:.4g}")
    bar.close()
    if patience is not None and best_value is not None:
        net = best
    return net, history


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
