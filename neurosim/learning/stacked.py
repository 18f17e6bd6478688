"""Train several networks of one shape at once, bit-identical to training each alone with :func:`neurosim.train`.

    runs = train_stacked([net_a, net_b, net_c], task, steps=2000, rng=[0, 1, 2], lr=1e-3)
    # == [ns.train(net, task, steps=2000, rng=seed, lr=1e-3) for net, seed in zip(nets, [0, 1, 2])]

Each network keeps everything :func:`neurosim.train` gives it: its own rule (minibatches from its own rng,
optimizer state, clipping, constraints), its own loop (history, validation, early stopping, non-finite and
divergence guards). Only the gradient is shared work: the networks' loops run in lockstep, one thread each,
and when every network still training has asked for its step's gradient, one call of
:func:`neurosim.ann.stacked.loss_and_grads` computes all of them (one batched product per time step). A network
that stops early leaves the lockstep; the others go on. Threads only wait for each other: one computes at a
time, so the results do not depend on scheduling.

When it pays (``python benchmarks/bptt.py --stacked``, batch 32, T = 100, one core): stacking saves numpy's fixed
cost per call, so with numpy's time loops it helps small networks (1.2-1.7x the throughput for 8 to 32 units in
float32, 0.9-1.1x in float64, on one machine) and not larger ones: at 64 units one network's gradient is already
mostly arithmetic on data that stays in the core's cache, and 8 stacked networks' arrays, 8 times larger, do not
(0.75-0.95x). Where the compiled loops run (the rate form with tanh) the gradients are computed one network at a
time (:mod:`neurosim.ann.stacked`), so there it costs and gives about nothing (0.96-1.08x at 64 units).
"""

from __future__ import annotations

import threading

from tqdm import tqdm

from ..ann import stacked
from . import loop
from .bptt import prepare

__all__ = ["train_stacked"]


class _Lockstep:
    """Collects each member's gradient request; the last one to arrive computes them all."""

    def __init__(self, rules, loss_kw: dict, dropout: float, bar):
        self.rules, self.loss_kw, self.dropout, self.bar = rules, loss_kw, dropout, bar
        self.active = set(range(len(rules)))
        self.pending: dict[int, object] = {}  # member -> its minibatch
        self.results: dict[int, tuple] = {}
        self.cond = threading.Condition()

    def request(self, s: int, batch):
        with self.cond:
            self.pending[s] = batch
            self._maybe_compute()
            self.cond.wait_for(lambda: s in self.results)
            ok, value = self.results.pop(s)
        if not ok:
            raise value
        return value

    def leave(self, s: int) -> None:
        with self.cond:
            self.active.discard(s)
            self._maybe_compute()

    def _maybe_compute(self) -> None:
        if not self.pending or not self.active <= set(self.pending):
            return
        members = sorted(self.pending)
        try:
            out = stacked.loss_and_grads([self.rules[s].net for s in members], [self.pending[s] for s in members],
                                         dropout=self.dropout, rngs=[self.rules[s].noise_rng for s in members],
                                         **self.loss_kw)
            self.results.update({s: (True, r) for s, r in zip(members, out)})
        except Exception as err:  # handed to every member, each re-raises it in its own loop
            self.results.update({s: (False, err) for s in members})
        self.pending.clear()
        self.bar.update(1)
        self.cond.notify_all()


def train_stacked(nets, data, steps: int = 1000, *, rng=0, progress: bool = True, **kwargs) -> list:
    """Train every network of ``nets`` as :func:`neurosim.train` would (same keyword arguments); returns the
    list of ``(new_net, history)``, one per network, bit-identical to training each alone.

    rng: one seed per network (a sequence as long as ``nets``), or one seed for all (then all see the same
    minibatches). The networks must be RateNetworks that differ only in their weights
    (:func:`neurosim.ann.stacked.check_stackable`).
    """
    nets = list(nets)
    stacked.check_stackable(nets)
    seeds = list(rng) if isinstance(rng, (list, tuple)) else [rng] * len(nets)
    if len(seeds) != len(nets):
        raise ValueError(f"train_stacked rng: expected one seed per network ({len(nets)}), got {len(seeds)}")
    prepared = [prepare(net, data, rng=seed, progress=False, **kwargs) for net, seed in zip(nets, seeds)]
    rules = [rule for rule, _ in prepared]

    results: list = [None] * len(nets)
    with tqdm(total=None, disable=not progress, desc="train_stacked", unit="step", leave=False) as bar:
        lock = _Lockstep(rules, rules[0].loss_kw, rules[0].dropout, bar)

        def member(s: int) -> None:
            rule, loop_kw = prepared[s]
            rule.gradient = lambda batch: lock.request(s, batch)
            try:
                results[s] = (True, loop.run(rule, steps, **loop_kw))
            except BaseException as err:  # re-raised below, in the caller's thread
                results[s] = (False, err)
            finally:
                lock.leave(s)

        threads = [threading.Thread(target=member, args=(s,), name=f"train_stacked-{s}") for s in range(len(nets))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    for ok, value in results:
        if not ok:
            raise value
    return [value for _, value in results]
