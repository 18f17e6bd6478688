"""The catalogue of bad inputs: every one is refused, by name, before it can produce a result.

Each API case is ``(id, call, exception type, regex)``: the call must raise exactly that type (ValueError or
TypeError; subclasses such as SpecError count) with a message matching the regex, which names the field at
fault. Each command-line case is ``(id, argv, regex)``: the command must exit with status 2 and write exactly one
line to stderr, matching the regex. Nothing here needs Brian2: every refusal happens before a substrate runs.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import neurosim as ns
from neurosim import cli
from neurosim.spec import parse_spec
from neurosim.tasks import Trials

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")


# -- small valid objects the cases spoil -------------------------------------------------------------------------

def _net(**kw):
    return ns.RateNetwork.random(3, 8, 3, tau=0.1, dt=0.01, rng=0, **kw)


def _fields(**changes):
    net = _net()
    kw = {k: getattr(net, k) for k in ("W_in", "W_rec", "b", "W_out", "b_out", "tau", "dt")}
    kw.update(changes)
    return kw


def _rate(**changes):
    return ns.RateNetwork(**_fields(**changes))


def _spiking(**changes):
    kw = {k: getattr(_net(), k) for k in ("W_in", "W_rec", "b", "W_out", "b_out")}
    kw.update(changes)
    return ns.SpikingNetwork(**kw)


def _trials(B=2, T=5, n_in=3, n_out=3, dt=0.01, **arrays):
    kw = dict(inputs=np.zeros((B, T, n_in)), targets=np.zeros((B, T, n_out)), mask=np.ones((B, T, n_out)), dt=dt)
    kw.update(arrays)
    return Trials(**kw)


def _spec(**sections):
    raw = {"task": {"name": "flip_flop"}, "network": {"n_rec": 8}, "training": {"steps": 1}}
    for section, table in sections.items():
        raw.setdefault(section, {}).update(table)
    return parse_spec(raw, source="spec.toml")


def _dale_net():
    return ns.RateNetwork.random(3, 10, 3, dale=0.8, rng=0)


FLIP = ns.tasks.make("flip_flop", dt=0.01)
DECIDE = ns.tasks.make("perceptual_decision", dt=0.01)
NAN_OUT = np.full((2, 5, 3), np.nan)
MASK_HALF = np.where(np.eye(8) > 0, 0.0, 0.5)
ASYM_DALE = np.r_[np.ones(4), np.full(4, 0.5)]

# (id, call, exception, regex naming the field)
API = [
    # RateNetwork fields
    ("net W_rec not square", lambda: _rate(W_rec=np.zeros((8, 7))), ValueError, r"RateNetwork\.W_rec: expected shape"),
    ("net W_rec 1-D", lambda: _rate(W_rec=np.zeros(8)), ValueError, r"RateNetwork\.W_rec: expected a 2-D"),
    ("net W_rec None", lambda: _rate(W_rec=None), TypeError, r"RateNetwork\.W_rec: expected a numeric array, got None"),
    ("net W_rec strings", lambda: _rate(W_rec=[["a"] * 8] * 8), TypeError, r"RateNetwork\.W_rec: expected a numeric"),
    ("net W_rec complex", lambda: _rate(W_rec=np.eye(8) * (1 + 1j)), TypeError, r"RateNetwork\.W_rec: expected real"),
    ("net W_in complex", lambda: _rate(W_in=np.ones((8, 3)) * 1j), TypeError, r"RateNetwork\.W_in: expected real"),
    ("net b complex", lambda: _rate(b=np.zeros(8, complex)), TypeError, r"RateNetwork\.b: expected real"),
    ("net W_rec float16", lambda: _rate(W_rec=np.zeros((8, 8), np.float16)), TypeError,
     r"RateNetwork\.W_rec: expected float32 or float64, got float16"),
    ("net W_out float16", lambda: _rate(W_out=np.zeros((3, 8), np.float16)),
     TypeError, r"RateNetwork\.W_out: .*float16"),
    ("net W_rec longdouble", lambda: _rate(W_rec=np.zeros((8, 8), np.longdouble)), TypeError,
     r"RateNetwork\.W_rec: expected float32 or float64"),
    ("net zero units", lambda: _rate(W_rec=np.zeros((0, 0)), W_in=np.zeros((0, 3)), b=np.zeros(0),
                                     W_out=np.zeros((3, 0))), ValueError, r"RateNetwork\.W_rec: expected at least one"),
    ("net zero inputs", lambda: _rate(W_in=np.zeros((8, 0))), ValueError, r"RateNetwork\.W_in: expected at least one"),
    ("net zero outputs", lambda: _rate(W_out=np.zeros((0, 8)), b_out=np.zeros(0)), ValueError,
     r"RateNetwork\.W_out: expected at least one"),
    ("net W_in rows", lambda: _rate(W_in=np.zeros((7, 3))),
     ValueError, r"RateNetwork\.W_in: expected shape \(8, any\)"),
    ("net b size", lambda: _rate(b=np.zeros(9)), ValueError, r"RateNetwork\.b: expected shape \(8\)"),
    ("net W_out cols", lambda: _rate(W_out=np.zeros((3, 9))), ValueError, r"RateNetwork\.W_out"),
    ("net b_out size", lambda: _rate(b_out=np.zeros(2)), ValueError, r"RateNetwork\.b_out"),
    ("net x0 size", lambda: _rate(x0=np.zeros(7)), ValueError, r"RateNetwork\.x0: expected shape \(8\)"),
    ("net x0 nan", lambda: _rate(x0=np.full(8, np.nan)), ValueError, r"RateNetwork\.x0: expected finite"),
    ("net W_rec nan", lambda: _rate(W_rec=np.full((8, 8), np.nan)), ValueError, r"RateNetwork\.W_rec: expected finite"),
    ("net W_in inf", lambda: _rate(W_in=np.full((8, 3), np.inf)), ValueError, r"RateNetwork\.W_in: expected finite"),
    ("net tau 0", lambda: _rate(tau=0.0), ValueError, r"RateNetwork\.tau: expected a positive"),
    ("net tau nan", lambda: _rate(tau=float("nan")), ValueError, r"RateNetwork\.tau"),
    ("net tau string", lambda: _rate(tau="fast"), TypeError, r"RateNetwork\.tau: expected a number of seconds"),
    ("net tau None", lambda: _rate(tau=None), TypeError, r"RateNetwork\.tau: expected a number of seconds"),
    ("net tau bool", lambda: _rate(tau=True), TypeError, r"RateNetwork\.tau"),
    ("net dt 0", lambda: _rate(dt=0.0), ValueError, r"RateNetwork\.dt: expected a positive"),
    ("net dt > tau", lambda: _rate(dt=0.5), ValueError, r"RateNetwork\.dt: forward Euler needs dt <= tau"),
    ("net activation", lambda: _rate(activation="swish"), ValueError, r"activation: expected one of"),
    ("net form", lambda: _rate(form="voltage"), ValueError, r"RateNetwork\.form"),
    ("net output_activation", lambda: _rate(output_activation="tanh"), ValueError, r"RateNetwork\.output_activation"),
    ("net sigma negative", lambda: _rate(sigma=-0.1), ValueError, r"RateNetwork\.sigma"),
    ("net sigma string", lambda: _rate(sigma="0.1"), TypeError, r"RateNetwork\.sigma"),
    ("net dale 0.5", lambda: _rate(dale=np.full(8, 0.5)), ValueError, r"RateNetwork\.dale: expected \+1"),
    ("net dale size", lambda: _rate(dale=np.ones(7)), ValueError, r"RateNetwork\.dale: expected shape \(8\)"),
    ("net dale violated", lambda: _rate(dale=np.ones(8), W_rec=-np.ones((8, 8))), ValueError,
     r"RateNetwork\.W_rec: weights violate Dale"),
    ("net mask 0.5", lambda: _rate(mask=np.full((8, 8), 0.5)), ValueError, r"RateNetwork\.mask: expected only 0 and 1"),
    ("net mask nan", lambda: _rate(mask=np.full((8, 8), np.nan)), ValueError, r"RateNetwork\.mask: expected finite"),
    ("net mask shape", lambda: _rate(mask=np.ones((8, 7))), ValueError, r"RateNetwork\.mask: expected shape \(8, 8\)"),
    ("net mask violated", lambda: _rate(mask=np.zeros((8, 8)), W_rec=np.ones((8, 8))), ValueError,
     r"RateNetwork\.W_rec: nonzero weights where mask is 0"),
    ("net mask complex", lambda: _rate(mask=np.ones((8, 8), complex)), TypeError, r"RateNetwork\.mask: expected real"),
    # RateNetwork.random
    ("random n_rec 0", lambda: ns.RateNetwork.random(3, 0, 3), ValueError, r"random n_rec"),
    ("random n_in float", lambda: ns.RateNetwork.random(3.5, 8, 3), TypeError, r"random n_in: expected an integer"),
    ("random n_out -1", lambda: ns.RateNetwork.random(3, 8, -1), ValueError, r"random n_out"),
    ("random g negative", lambda: ns.RateNetwork.random(3, 8, 3, g=-1.0), ValueError, r"random g"),
    ("random p > 1", lambda: ns.RateNetwork.random(3, 8, 3, p=1.5), ValueError, r"random p"),
    ("random p 0", lambda: ns.RateNetwork.random(3, 8, 3, p=0.0), ValueError, r"random p"),
    ("random dale 1", lambda: ns.RateNetwork.random(3, 8, 3, dale=1.0), ValueError, r"random dale"),
    ("random rng -1", lambda: ns.RateNetwork.random(3, 8, 3, rng=-1), TypeError, r"rng: expected a non-negative int"),
    ("random rng None", lambda: ns.RateNetwork.random(3, 8, 3, rng=None), TypeError, r"rng: expected"),
    ("random spectral_radius 0", lambda: ns.RateNetwork.random(3, 8, 3, spectral_radius=0.0), ValueError,
     r"random spectral_radius"),
    ("random dtype float16", lambda: ns.RateNetwork.random(3, 8, 3, dtype=np.float16), TypeError,
     r"RateNetwork\.W_rec: expected float32 or float64"),
    # SpikingNetwork: the same Dale and mask rules as RateNetwork
    ("spiking dale 0.5", lambda: _spiking(dale=np.full(8, 0.5)), ValueError, r"SpikingNetwork\.dale: expected \+1"),
    ("spiking dale mixed", lambda: _spiking(dale=ASYM_DALE, W_rec=np.abs(_net().W_rec)), ValueError,
     r"SpikingNetwork\.dale: expected \+1"),
    ("spiking mask 0.5", lambda: _spiking(mask=MASK_HALF, W_rec=np.diag(np.ones(8)) * 0), ValueError,
     r"SpikingNetwork\.mask: expected only 0 and 1"),
    ("spiking mask shape", lambda: _spiking(mask=np.ones((8, 7))), ValueError, r"SpikingNetwork\.mask: expected shape"),
    ("spiking dale violated", lambda: _spiking(dale=np.ones(8), W_rec=-np.ones((8, 8))), ValueError,
     r"SpikingNetwork\.W_rec: weights violate Dale"),
    ("spiking W_rec complex", lambda: _spiking(W_rec=np.eye(8) * 1j),
     TypeError, r"SpikingNetwork\.W_rec: expected real"),
    ("spiking zero units", lambda: _spiking(W_rec=np.zeros((0, 0)), W_in=np.zeros((0, 3)), b=np.zeros(0),
                                            W_out=np.zeros((3, 0))),
     ValueError, r"SpikingNetwork\.W_rec: expected at least"),
    ("spiking lam 0", lambda: _spiking(lam=0.0), ValueError, r"SpikingNetwork\.lam"),
    ("spiking lam string", lambda: _spiking(lam="40"), TypeError, r"SpikingNetwork\.lam"),
    ("spiking tau_r >= tau_d", lambda: _spiking(tau_r=0.2), ValueError, r"SpikingNetwork\.tau_r"),
    ("spiking v_reset above threshold", lambda: _spiking(v_reset=-0.03), ValueError, r"SpikingNetwork\.v_reset"),
    ("spiking sim_dt coarse", lambda: _spiking(sim_dt=0.005), ValueError, r"SpikingNetwork\.sim_dt"),
    ("spiking sim_dt not dividing", lambda: _spiking(sim_dt=0.00015), ValueError, r"SpikingNetwork\.sim_dt"),
    ("spiking synapse", lambda: _spiking(synapse="triple"), ValueError, r"SpikingNetwork\.synapse"),
    ("spiking sigma_v negative", lambda: _spiking(sigma_v=-0.001), ValueError, r"SpikingNetwork\.sigma_v"),
    ("to_spiking of a gated network", lambda: ns.to_spiking(ns.GatedNetwork.random(1, 4, 1, cell="lstm", rng=0)),
     TypeError, r"to_spiking: expected a neurosim\.RateNetwork"),
    ("to_spiking of None", lambda: ns.to_spiking(None), TypeError, r"to_spiking: expected a neurosim\.RateNetwork"),
    ("to_spiking of a spiking network", lambda: ns.to_spiking(ns.to_spiking(_net(activation="sigmoid"))), TypeError,
     r"to_spiking: expected a neurosim\.RateNetwork, got SpikingNetwork"),
    ("train a spiking network", lambda: ns.train(ns.to_spiking(_net(activation="sigmoid")), FLIP, steps=1), TypeError,
     r"train: expected a neurosim network"),
    ("loss_and_grads of None", lambda: ns.ann.loss_and_grads(None, _trials()), TypeError,
     r"expected a neurosim network"),
    ("loss_and_grads of arrays", lambda: ns.ann.loss_and_grads(_net(), np.zeros((2, 5, 3))), TypeError,
     r"loss_and_grads: expected Trials"),
    ("gated cell", lambda: ns.GatedNetwork.random(1, 4, 1, cell="rnn", rng=0), ValueError, r"cell"),
    ("gated W_hh complex", lambda: ns.GatedNetwork(cell="gru", W_ih=np.zeros((12, 1)), W_hh=np.zeros((12, 4), complex),
                                                   b_ih=np.zeros(12), b_hh=np.zeros(12), W_out=np.zeros((1, 4)),
                                                   b_out=np.zeros(1)), TypeError, r"GatedNetwork\.W_hh: expected real"),
    ("gated zero units", lambda: ns.GatedNetwork(cell="gru", W_ih=np.zeros((0, 1)), W_hh=np.zeros((0, 0)),
                                                 b_ih=np.zeros(0), b_hh=np.zeros(0), W_out=np.zeros((1, 0)),
                                                 b_out=np.zeros(1)),
     ValueError, r"GatedNetwork\.W_hh: expected at least"),
    # Trials
    ("trials inputs 2-D", lambda: Trials(np.zeros((2, 5)), np.zeros((2, 5, 1)), np.ones((2, 5, 1)), 0.01), ValueError,
     r"Trials\.inputs: expected a 3-D array"),
    ("trials targets steps", lambda: _trials(targets=np.zeros((2, 4, 3)), mask=np.ones((2, 4, 3))), ValueError,
     r"Trials\.targets: expected shape \(2, 5, any\)"),
    ("trials mask shape", lambda: _trials(mask=np.ones((2, 5, 2))), ValueError, r"Trials\.mask: expected shape"),
    ("trials mask 0.5", lambda: _trials(mask=np.full((2, 5, 3), 0.5)),
     ValueError, r"Trials\.mask: expected only 0 and 1"),
    ("trials inputs nan", lambda: _trials(inputs=np.full((2, 5, 3), np.nan)),
     ValueError, r"Trials\.inputs: expected finite"),
    ("trials targets inf", lambda: _trials(targets=np.full((2, 5, 3), np.inf)), ValueError,
     r"Trials\.targets: expected finite"),
    ("trials inputs complex", lambda: _trials(inputs=np.zeros((2, 5, 3), complex)), TypeError,
     r"Trials\.inputs: expected real"),
    ("trials targets complex", lambda: _trials(targets=np.ones((2, 5, 3)) * 1j), TypeError,
     r"Trials\.targets: expected real"),
    ("trials inputs float16", lambda: _trials(inputs=np.zeros((2, 5, 3), np.float16)), TypeError,
     r"Trials\.inputs: expected float32 or float64"),
    ("trials inputs None", lambda: _trials(inputs=None),
     TypeError, r"Trials\.inputs: expected a numeric array, got None"),
    ("trials empty batch", lambda: _trials(B=0), ValueError, r"Trials\.inputs: expected at least one entry"),
    ("trials zero steps", lambda: _trials(T=0), ValueError, r"Trials\.inputs: expected at least one entry"),
    ("trials zero outputs", lambda: _trials(n_out=0), ValueError, r"Trials\.targets: expected at least one entry"),
    ("trials dt 0", lambda: _trials(dt=0.0), ValueError, r"Trials\.dt: expected a positive"),
    ("trials dt string", lambda: _trials(dt="10ms"), TypeError, r"Trials\.dt"),
    ("trials info list", lambda: Trials(np.zeros((2, 5, 3)), np.zeros((2, 5, 3)), np.ones((2, 5, 3)), 0.01, []),
     TypeError, r"Trials\.info: expected a dict"),
    ("trials slice past the end", lambda: _trials()[5:9], ValueError, r"Trials\[.*\]: the selection holds no trials"),
    ("trials empty index array", lambda: _trials()[np.array([], int)],
     ValueError, r"Trials\[.*\]: the selection holds no"),
    ("trials index a string", lambda: _trials()["0"], TypeError, r"Trials\[\.\.\.\]: expected an int, a slice"),
    ("trials index a float", lambda: _trials()[0.5], TypeError, r"Trials\[\.\.\.\]: expected an int, a slice"),
    # tasks
    ("task unknown", lambda: ns.tasks.make("flipflop"), ValueError, r"unknown task 'flipflop'; known tasks"),
    ("task unknown parameter", lambda: ns.tasks.make("flip_flop", bits=3),
     ValueError, r"unknown parameter\(s\) \['bits'\]"),
    ("task dt 0", lambda: ns.tasks.make("flip_flop", dt=0.0), ValueError, r"FlipFlop\.dt"),
    ("task dt string", lambda: ns.tasks.make("adding", dt="fast"), TypeError, r"Adding\.dt"),
    ("task stimulus 0", lambda: ns.tasks.make("perceptual_decision", stimulus=0.0), ValueError,
     r"PerceptualDecision\.stimulus"),
    ("task coherences empty", lambda: ns.tasks.make("perceptual_decision", coherences=()), ValueError,
     r"PerceptualDecision\.coherences"),
    ("task coherences strings", lambda: ns.tasks.make("perceptual_decision", coherences=("a",)), TypeError,
     r"PerceptualDecision\.coherences"),
    ("task delay range reversed", lambda: ns.tasks.make("delayed_recall", delay=(1.5, 0.5)), ValueError,
     r"DelayedRecall\.delay: expected low <= high"),
    ("sample n_trials 0", lambda: FLIP.sample(0, rng=0), ValueError, r"sample n_trials"),
    ("sample n_trials float", lambda: FLIP.sample(2.5, rng=0), TypeError, r"sample n_trials: expected an integer"),
    ("sample without rng", lambda: FLIP.sample(2), TypeError, r"FlipFlop\.sample: pass rng="),
    ("sample rng string", lambda: FLIP.sample(2, rng="seed"), TypeError, r"rng: expected"),
    ("score nan outputs", lambda: FLIP.score(np.full((2, 5, 3), np.nan), _trials()), ValueError,
     r"flip_flop\.score outputs: expected finite values"),
    ("score nan outputs decision", lambda: DECIDE.score(np.full((2, 5, 2), np.nan), _trials(n_in=3, n_out=2)),
     ValueError, r"perceptual_decision\.score outputs: expected finite"),
    ("score inf outputs regression", lambda: ns.tasks.make("adding").score(np.full((2, 5, 3), np.inf), _trials()),
     ValueError, r"adding\.score outputs: expected finite"),
    ("score wrong shape", lambda: FLIP.score(np.zeros((2, 5, 2)), _trials()), ValueError, r"flip_flop\.score outputs"),
    ("score complex", lambda: FLIP.score(np.zeros((2, 5, 3), complex), _trials()), TypeError,
     r"flip_flop\.score outputs: expected real"),
    ("score trials not Trials", lambda: FLIP.score(np.zeros((2, 5, 3)), None), TypeError, r"flip_flop\.score trials"),
    ("score all-zero mask", lambda: ns.tasks.make("adding").score(np.zeros((2, 5, 3)),
                                                                  _trials(mask=np.zeros((2, 5, 3)))),
     ValueError, r"Trials\.mask: no entry is scored"),
    # ann
    ("forward inputs size", lambda: ns.ann.forward(_net(), np.zeros((2, 5, 2))), ValueError, r"inputs: expected shape"),
    ("forward inputs complex", lambda: ns.ann.forward(_net(), np.zeros((2, 5, 3), complex)), TypeError,
     r"inputs: expected real"),
    ("forward inputs empty batch", lambda: ns.ann.forward(_net(), np.zeros((0, 5, 3))), ValueError,
     r"inputs: expected at least one"),
    ("forward inputs zero steps", lambda: ns.ann.forward(_net(), np.zeros((2, 0, 3))), ValueError,
     r"inputs: expected at least one"),
    ("forward not a network", lambda: ns.ann.forward(None, np.zeros((2, 5, 3))),
     TypeError, r"expected a neurosim network"),
    ("loss_and_grads loss", lambda: ns.ann.loss_and_grads(_net(), _trials(), loss="hinge"), ValueError, r"loss"),
    # simulate
    ("simulate substrate", lambda: ns.simulate(_net(), _trials(), "gpu"), ValueError, r"simulate substrate: unknown"),
    ("simulate trials None", lambda: ns.simulate(_net(), None), TypeError, r"simulate trials: expected"),
    ("simulate net None", lambda: ns.simulate(None, _trials()),
     TypeError, r"simulate net: expected a neurosim network"),
    ("simulate inputs", lambda: ns.simulate(_net(), _trials(n_in=2)), ValueError, r"simulate trials\.inputs"),
    ("simulate dt", lambda: ns.simulate(_net(), _trials(dt=0.02)), ValueError, r"simulate trials\.dt"),
    ("simulate noise_mode", lambda: ns.simulate(_net(), _trials(), noise_mode="white"), ValueError,
     r"simulate noise_mode"),
    ("simulate the old noise name", lambda: ns.simulate(_net(), _trials(), noise="matched"), ValueError,
     r"simulate noise: .*renamed noise_mode"),
    ("simulate outputs", lambda: ns.simulate(_net(), _trials(n_out=2)), ValueError,
     r"simulate trials\.targets: expected 3 outputs per step \(net\.n_out\), got 2"),
    ("simulate outputs of a gated network", lambda: ns.simulate(ns.GatedNetwork.random(3, 4, 1, cell="gru", rng=0),
                                                                _trials()), ValueError, r"simulate trials\.targets"),
    ("simulate a diverging linear network", lambda: ns.simulate(_net(activation="linear", g=1e3),
                                                                _trials(T=200, inputs=np.ones((2, 200, 3)))),
     ValueError, r"simulate substrate 'ann': the outputs are not finite .* diverged"),
    ("simulate rate needs a rate network", lambda: ns.simulate(ns.to_spiking(_net(activation="sigmoid")),
                                                               _trials(), "rate"), TypeError,
     r"simulate substrate 'rate': expected a RateNetwork"),
    ("simulate spiking needs a spiking network", lambda: ns.simulate(_net(), _trials(), "spiking"), TypeError,
     r"simulate substrate 'spiking': expected a SpikingNetwork"),
    ("simulate option not taken", lambda: ns.simulate(_net(), _trials(), "ann", coupling="synapses"), ValueError,
     r"simulate coupling: substrate 'ann' does not take"),
    ("simulate rng", lambda: ns.simulate(_net(), _trials(), rng=1.5), TypeError, r"rng: expected"),
    # train
    ("train data None", lambda: ns.train(_net(), None, steps=1), TypeError, r"train: expected a Task or Trials"),
    ("train steps 0", lambda: ns.train(_net(), FLIP, steps=0), ValueError, r"train steps"),
    ("train lr negative", lambda: ns.train(_net(), FLIP, steps=1, lr=-1.0), ValueError, r"train lr"),
    ("train batch_size float", lambda: ns.train(_net(), FLIP, steps=1, batch_size=2.5), TypeError, r"train batch_size"),
    ("train optimizer", lambda: ns.train(_net(), FLIP, steps=1, optimizer="lbfgs"), ValueError, r"train optimizer"),
    ("train sizes", lambda: ns.train(ns.RateNetwork.random(2, 8, 3, rng=0), FLIP, steps=1), ValueError, r"n_in"),
    ("train dt", lambda: ns.train(ns.RateNetwork.random(3, 8, 3, dt=0.02, rng=0), FLIP, steps=1), ValueError, r"dt"),
    ("train all-zero mask", lambda: ns.train(_net(), _trials(B=4, mask=np.zeros((4, 5, 3))), steps=1, progress=False),
     ValueError, r"train data: Trials\.mask is all zero"),
    ("train validation all-zero mask", lambda: ns.train(_net(), _trials(B=4), steps=1, progress=False,
                                                        validation=_trials(mask=np.zeros((2, 5, 3)))),
     ValueError, r"train validation: Trials\.mask is all zero"),
    ("train validation dt", lambda: ns.train(_net(), _trials(B=4), steps=1, validation=_trials(dt=0.02),
                                             progress=False), ValueError,
     r"train validation\.dt: expected the network's step net\.dt = 0\.01 s, got 0\.02 s"),
    ("train validation sizes", lambda: ns.train(_net(), _trials(B=4), steps=1, validation=_trials(n_out=2),
                                                progress=False), ValueError,
     r"train validation\.targets: expected 3 outputs per step \(net\.n_out\), got 2"),
    ("train momentum > 1 sgd", lambda: ns.train(_net(), FLIP, steps=1, optimizer="sgd", momentum=1.5), ValueError,
     r"momentum: expected a number in \[0, 1\)"),
    ("train momentum > 1 adam", lambda: ns.train(_net(), FLIP, steps=1, momentum=1.5), ValueError,
     r"train momentum: expected a number in \[0, 1\)"),
    ("train momentum string", lambda: ns.train(_net(), FLIP, steps=1, momentum="high"), TypeError, r"train momentum"),
    ("train net None", lambda: ns.train(None, FLIP, steps=1), TypeError, r"train: expected a neurosim network"),
    # save and load
    ("load missing", lambda: ns.load("/nonexistent/model"), FileNotFoundError, r"load: /nonexistent/model\.json does"),
    ("load None", lambda: ns.load(None), TypeError, r"load path: expected a file path"),
    ("load empty path", lambda: ns.load(""), ValueError, r"load path: expected a file path"),
    ("save None", lambda: _net().save(None), TypeError, r"save path: expected a file path"),
    # specs
    ("spec unknown key", lambda: _spec(network={"nrec": 8}), ValueError, r"unknown key\(s\) \['nrec'\] in \[network\]"),
    ("spec n_rec 0", lambda: _spec(network={"n_rec": 0}), ValueError, r"\[network\] n_rec"),
    ("spec n_rec string", lambda: _spec(network={"n_rec": "8"}), ValueError, r"\[network\] n_rec: expected an integer"),
    ("spec momentum > 1", lambda: _spec(training={"momentum": 1.5}), ValueError, r"\[training\] momentum"),
    ("spec activation", lambda: _spec(network={"activation": "swish"}), ValueError, r"\[network\] activation"),
    ("spec bool", lambda: _spec(training={"steps": True}), ValueError, r"\[training\] steps: expected an integer"),
    ("spec unknown task", lambda: parse_spec({"task": {"name": "x"}, "network": {"n_rec": 8}}), ValueError,
     r"\[task\] name: unknown task 'x'"),
    ("spec task parameter", lambda: _spec(task={"bits": 3}), ValueError, r"\[task\].*unknown parameter"),
    ("spec lambdas", lambda: _spec(spiking={"lambdas": [0, -1]}), ValueError, r"\[spiking\] lambdas"),
    ("spec dtype float16", lambda: _spec(network={"dtype": "float16"}), ValueError, r"\[network\] dtype"),
]


@pytest.mark.parametrize("call,exc,match", [c[1:] for c in API], ids=[c[0] for c in API])
def test_bad_input_is_refused_by_name(call, exc, match):
    with pytest.raises(Exception) as info:
        call()
    assert isinstance(info.value, exc), f"expected {exc.__name__}, got {type(info.value).__name__}: {info.value}"
    assert info.match(match)


# -- the command line --------------------------------------------------------------------------------------------

@pytest.fixture
def place(tmp_path):
    """A scratch directory with what the command-line cases point at."""
    (tmp_path / "a_file").write_text("not a directory\n")
    (tmp_path / "bad.toml").write_text("[task]\nname = 'flip_flop'\n[network]\nn_rec = 'many'\n")
    (tmp_path / "broken.toml").write_text("[task\n")
    (tmp_path / "model.json").write_text("{not json")
    (tmp_path / "model.npz").write_bytes(b"")
    (tmp_path / "adir.json").mkdir()
    (tmp_path / "adir.npz").mkdir()
    (tmp_path / "nomodel.toml").write_text("[task]\nname = 'flip_flop'\n[network]\nn_rec = 8\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "report.md").write_text("an earlier run\n")
    meta = {"format": "neurosim.model", "format_version": 1, "class": "RateNetwork", "arrays": {}}
    (tmp_path / "nokeys.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "nokeys.npz")
    with open(PD) as fh, open(FF) as ff:
        spec, other = fh.read(), ff.read()
    for name, text in {"size": spec.replace("n_rec = 200", "n_rec = 100"),
                       "activation": spec.replace('activation = "sigmoid"', 'activation = "tanh"'),
                       "form": spec.replace('form = "current"', 'form = "rate"'),
                       "other": other}.items():  # a spec beside weights that are not its network
        (tmp_path / f"{name}.toml").write_text(text)
        for ext in (".json", ".npz"):
            with open(os.path.join(MODELS, "perceptual_decision" + ext), "rb") as fh:
                (tmp_path / f"{name}{ext}").write_bytes(fh.read())
    (tmp_path / "trained").mkdir()
    for ext in (".json", ".npz"):
        with open(os.path.join(MODELS, "flip_flop" + ext), "rb") as fh:
            (tmp_path / "trained" / f"model{ext}").write_bytes(fh.read())
    (tmp_path / "trained" / "metrics.json").write_text(json.dumps({"model": "x", "scores": {}}))
    return tmp_path


FF = os.path.join(MODELS, "flip_flop.toml")
PD = os.path.join(MODELS, "perceptual_decision.toml")
LSTM = os.path.join(MODELS, "sine_prediction_lstm.toml")

# (id, argv with {tmp} for the scratch directory, regex of the one stderr line)
CLI = [
    ("no command", [], r"^neurosim: error: the following arguments are required: COMMAND"),
    ("unknown command", ["fly"], r"^neurosim: error: argument COMMAND: invalid choice"),
    ("simulate --sim-dt 0", ["simulate", FF, "--sim-dt", "0"],
     r"argument --sim-dt: expected a whole number >= 1, got 0"),
    ("simulate --sim-dt -2", ["simulate", FF, "--sim-dt", "-2"], r"argument --sim-dt: expected a whole number >= 1"),
    ("simulate --sim-dt half", ["simulate", FF, "--sim-dt", "0.5"], r"argument --sim-dt: expected a whole number"),
    ("simulate --trials 0", ["simulate", FF, "--trials", "0"], r"argument --trials: expected a whole number >= 1"),
    ("simulate --seed -1", ["simulate", FF, "--seed", "-1"], r"argument --seed: expected a whole number >= 0"),
    ("simulate --lam 0", ["simulate", FF, "--substrate", "spiking", "--lam", "0"],
     r"argument --lam: expected a positive"),
    ("simulate --lam nan", ["simulate", FF, "--substrate", "spiking", "--lam", "nan"], r"argument --lam"),
    ("simulate --target gpu", ["simulate", FF, "--target", "gpu"], r"argument --target: invalid choice: 'gpu'"),
    ("simulate --device gpu", ["simulate", FF, "--device", "gpu"], r"argument --device: invalid choice"),
    ("simulate --noise-mode", ["simulate", FF, "--noise-mode", "pink"], r"argument --noise-mode: invalid choice"),
    ("simulate --substrate gpu", ["simulate", FF, "--substrate", "gpu", "--out", "{tmp}/o1"],
     r"argument --substrate: invalid choice: 'gpu'"),
    ("simulate missing spec", ["simulate", "{tmp}/none.toml"], r"spec '.*none\.toml' does not exist"),
    ("simulate missing weights", ["simulate", "{tmp}/nomodel.toml"], r"no trained weights at"),
    ("simulate bad spec", ["simulate", "{tmp}/bad.toml"], r"\[network\] n_rec: expected an integer"),
    ("simulate broken toml", ["simulate", "{tmp}/broken.toml"], r"not valid TOML"),
    ("simulate corrupt weights", ["simulate", "{tmp}/model", "--task", "flip_flop"],
     r"load: .*model\.json is not valid JSON"),
    ("simulate weights are directories", ["simulate", "{tmp}/adir", "--task", "flip_flop"],
     r"load: .*adir\.json is a directory, not a file"),
    ("simulate weights without keys", ["simulate", "{tmp}/nokeys", "--task", "flip_flop"],
     r"load: .*nokeys\.json: expected the tables 'config' and 'arrays'"),
    ("simulate unknown task", ["simulate", FF, "--task", "flipflop"], r"unknown task 'flipflop'"),
    ("simulate --out under a file", ["simulate", FF, "--out", "{tmp}/a_file/sub"],
     r"--out .*a_file/sub: cannot create"),
    ("simulate --out is a file", ["simulate", FF, "--out", "{tmp}/a_file"], r"--out .*a_file: a file of that name"),
    ("simulate --out not empty", ["simulate", FF, "--out", "{tmp}/full"], r"--out .*full: the directory is not empty"),
    ("simulate an LSTM on rate", ["simulate", LSTM, "--out", "{tmp}/o2"],
     r"simulate substrate 'rate': expected a RateNetwork"),
    ("simulate weights of another size", ["simulate", "{tmp}/size.toml"],
     r"do not match the spec .*n_rec 200 \(spec: 100\)"),
    ("simulate weights of another activation", ["simulate", "{tmp}/activation.toml"],
     r"do not match the spec .*activation 'sigmoid' \(spec: 'tanh'\)"),
    ("simulate weights of another form", ["simulate", "{tmp}/form.toml"], r"form 'current' \(spec: 'rate'\)"),
    ("simulate weights of another task", ["simulate", "{tmp}/other.toml"], r"n_out \(task\) 2 \(spec: 3\)"),
    ("simulate metrics.json without a spec", ["simulate", "{tmp}/trained/model"],
     r"metrics\.json does not hold the spec of a `neurosim train` run"),
    ("compare weights of another size", ["compare", "{tmp}/size.toml", "--out", "{tmp}/o5"],
     r"compare .*size\.json: the weights do not match the spec .*n_rec 200 \(spec: 100\)"),
    ("compare weights of another activation", ["compare", "{tmp}/activation.toml", "--out", "{tmp}/o6"],
     r"activation 'sigmoid' \(spec: 'tanh'\)"),
    ("compare weights of another form", ["compare", "{tmp}/form.toml", "--out", "{tmp}/o7"], r"form 'current'"),
    ("compare weights of another task", ["compare", "{tmp}/other.toml", "--out", "{tmp}/o8"],
     r"n_rec 200 \(spec: 64\)"),
    ("compare --trials 0", ["compare", "--trials", "0"], r"argument --trials: expected a whole number >= 1"),
    ("compare --trials x", ["compare", "--trials", "x"], r"argument --trials: expected a whole number >= 1, got 'x'"),
    ("compare --seed -3", ["compare", "--seed", "-3"], r"argument --seed"),
    ("compare --target", ["compare", "--target", "c"], r"argument --target: invalid choice"),
    ("compare --device", ["compare", "--device", "gpu"], r"argument --device: invalid choice"),
    ("compare substrates", ["compare", FF, "--substrates", "ann,gpu", "--out", "{tmp}/o3"],
     r"compare substrates: expected a non-empty subset"),
    ("compare substrates empty", ["compare", FF, "--substrates", ",", "--out", "{tmp}/o4"], r"compare substrates"),
    ("compare --out under a file", ["compare", "--out", "{tmp}/a_file/x"], r"--out .*a_file/x: cannot create"),
    ("compare --out not empty", ["compare", "--out", "{tmp}/full"], r"--out .*full: the directory is not empty"),
    ("compare missing spec", ["compare", "{tmp}/none.toml"], r"spec '.*none\.toml' does not exist"),
    ("compare bad spec", ["compare", "{tmp}/bad.toml"], r"\[network\] n_rec"),
    ("compare unknown option", ["compare", "--fast"], r"unrecognized arguments: --fast"),
    ("train without --out", ["train", FF], r"the following arguments are required: --out"),
    ("train --steps 0", ["train", FF, "--out", "{tmp}/t", "--steps", "0"],
     r"argument --steps: expected a whole number >= 1"),
    ("train missing spec", ["train", "{tmp}/none.toml", "--out", "{tmp}/t"], r"spec '.*none\.toml' does not exist"),
    ("train --out under a file", ["train", FF, "--out", "{tmp}/a_file/t", "--steps", "1"], r"--out .*: cannot create"),
    ("train --out not empty", ["train", FF, "--out", "{tmp}/full", "--steps", "1"], r"the directory is not empty"),
]


@pytest.mark.parametrize("argv,match", [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_bad_command_line_exits_2_with_one_line(argv, match, place, capsys, monkeypatch):
    monkeypatch.chdir(place)
    argv = [a.replace("{tmp}", str(place)) for a in argv]
    try:
        status = cli.main(argv)
    except SystemExit as stop:  # argparse's usage errors
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neurosim"), lines[0]
    assert re.search(match, lines[0]), f"{match!r} not in {lines[0]!r}"


def test_the_catalogue_holds_at_least_100_bad_inputs():
    assert len(API) + len(CLI) >= 100
    assert len({c[0] for c in API + CLI}) == len(API) + len(CLI)  # every case is a different one
