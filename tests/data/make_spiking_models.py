"""Regenerate the small trained rate networks that tests/test_spiking.py converts to spiking networks.

    python tests/data/make_spiking_models.py            # both models (about 15 minutes on 2 cores)
    python tests/data/make_spiking_models.py flip_flop  # one of them

Training a 200-unit network by BPTT takes minutes on a laptop, far more than a test may spend, so the trained
weights are committed here (float32, a few hundred kB) and the tests only convert and score them. The recipe
follows Kim, Li & Sejnowski (2019): current form, sigmoid units, Dale's law with 80% excitatory units.
Same code and seeds, same weights.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import neurosim as ns

HERE = os.path.dirname(os.path.abspath(__file__))

RECIPES = {
    # name: (task settings, network settings, training settings)
    "perceptual_decision": (
        dict(dt=0.02),
        dict(n_rec=200, tau=0.1, g=1.0),
        dict(steps=1500, lr=3e-3, batch_size=32),
    ),
    "flip_flop": (
        dict(dt=0.02, duration=1.0),
        dict(n_rec=200, tau=0.1, g=1.0),
        dict(steps=2000, lr=3e-3, batch_size=32),
    ),
}


def make(name: str) -> dict:
    task_kw, net_kw, train_kw = RECIPES[name]
    task = ns.tasks.make(name, **task_kw)
    net = ns.RateNetwork.random(n_in=task.n_in, n_out=task.n_out, dt=task.dt, activation="sigmoid",
                                form="current", dale=0.8, rng=0, **net_kw)
    start = time.perf_counter()
    net, history = ns.train(net, task, validation=200, eval_every=100, patience=None, rng=1, progress=False,
                            **train_kw)
    seconds = time.perf_counter() - start
    net.astype(np.float32).save(os.path.join(HERE, f"spiking_{name}"))
    test = task.sample(200, rng=12345)
    _, outputs = ns.ann.forward(net, test.inputs)
    scores = task.score(outputs, test)
    print(f"{name}: trained in {seconds:.0f} s, validation {history.metric} "
          f"{[round(m[history.metric], 3) for m in history.val_metrics]}, held-out accuracy "
          f"{scores['accuracy']:.3f}", flush=True)
    return scores


if __name__ == "__main__":
    for name in sys.argv[1:] or list(RECIPES):
        make(name)
