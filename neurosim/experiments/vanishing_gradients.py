"""Claim (b): gradients through time vanish (or explode) on long sequences, and the LSTM eases it.

What is measured. For a loss scored at the last step T only (the ``adding`` task), ``v_{T-k} = dL/dh_{T-k}``
(:func:`neurosim.ann.state_gradients`) against the lag k, averaged over trials as ``<ln ||v_{T-k}||>``. Its slope
per step, fitted by least squares over the lags ``fit_lags``, is the decay rate (nats per step; < 0 vanishes,
> 0 explodes). It is set beside

- the mean-field prediction ``1/2 ln(g^2 <f'(a)^2>)`` (Schoenholz et al. 2017, ICLR, "Deep information
  propagation"; Pennington et al. 2017): one backward step multiplies v by ``diag(f'(a_t)) W_rec^T``, whose
  mean squared gain over random W_rec ~ N(0, g^2/N) is ``g^2 <f'^2>``, with ``<f'^2>`` averaged over the driven
  states (units, steps, trials);
- without input (state 0, f' = 1) the backward map is W_rec^T itself, so the late decay rate is
  ``ln rho(W_rec)``, the log spectral radius (Pascanu, Mikolov & Bengio 2013, ICML, section 3);
- the bound ``ln sigma_max(W_rec)`` (Pascanu et al. 2013: with |f'| <= 1, sigma_max < 1 is sufficient for
  vanishing; it is not necessary).

Networks: Elman (tanh, alpha = 1) over the gains ``gains``, with W_in scaled so that the input drive has unit
RMS per unit on the adding trials; LSTMs with Keras' initialisation (the input weights Glorot-uniform, as Keras
draws them) and forget-gate bias 0, 1 (Keras' default) and 3; a GRU (Keras). All at initialisation, then an Elman
(g = ``train_g``) and the Keras LSTM after ``steps`` steps of Adam on adding at the same T, and the Elman at
g = 2 and at ``train_g`` trained without clipping for ``no_clip_steps`` steps (the gradient norm of each step).
"Trained" means Adam until the validation MSE is below 0.01 (the task solved; long_range_memory's goal) or
``steps`` steps, whichever comes first; the rows keep the steps run and the final validation MSE.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import activations, ann, tasks
from ..ann import state_gradients
from ..tasks import Trials
from . import _nets
from .base import Check, Experiment, register, verdict_from

SOURCE_MF = "issue 15 goal; mean field: Schoenholz et al. 2017 (ICLR), Pennington et al. 2017 (NeurIPS)"
SOURCE_RHO = "issue 15 goal; linear backward map W_rec^T: Pascanu, Mikolov & Bengio 2013 (ICML)"
SOURCE_LSTM = "issue 15 goal (Keras init, unit_forget_bias; Jozefowicz et al. 2015 ICML)"
SOURCE_TRAINED = "issue 15 goal; Hochreiter & Schmidhuber 1997 (the constant error carousel)"
SOURCE_EXPLODE = "issue 15 (show exploding gradients at g = 2 without clipping); Pascanu et al. 2013"

CONFIG = {
    "seeds": 5, "n_rec": 64, "dt": 0.01, "duration": 1.0,  # adding at T = duration / dt = 100 steps
    "gains": [0.4, 0.8, 1.0, 1.2, 1.5, 2.0], "forget_biases": [0.0, 1.0, 3.0],
    "n_trials": 16, "fit_lags": [5, 90], "ratio_lags": [1, 90], "free_steps": 300,
    "train_g": 1.0, "steps": 3000, "lr": 1e-3, "batch_size": 32, "clip": 1.0, "val_trials": 256,
    "eval_every": 100, "no_clip_steps": 200,
}
QUICK = {"seeds": 2, "n_trials": 4, "free_steps": 200, "steps": 40, "val_trials": 32, "eval_every": 20,
         "no_clip_steps": 20}

# goals (issue 15), named so that the check reads like the issue
MF_TOLERANCE = 0.20  # fitted decay within 20% of 1/2 ln(g^2 <f'^2>) for g <= MF_MAX_G
MF_MAX_G = 1.2
RHO_TOLERANCE = 0.05  # without input, within 5% of ln rho(W_rec) for g < 1
LSTM_RANGE = (-0.20, -0.10)  # nats per step, Keras LSTM with forget bias 1 at initialisation
LSTM_TRAINED_MIN = 1e-3  # ||v|| at lag 90 over lag 1, trained LSTM: at least
ELMAN_TRAINED_MAX = 1e-6  # trained Elman: below
TRAIN_GOAL_MSE = 0.01  # "trained": until the validation MSE is below this (long_range_memory's goal) or the budget


def _profile(net, trials: Trials, fit_lags, ratio_lags) -> dict:
    """<ln ||dL/dh_{T-k}||> over trials against the lag k, its fitted slope over fit_lags, and the ratio of the
    norms at ratio_lags (a geometric mean over trials)."""
    V = state_gradients(net, trials)  # (B, T, N)
    norms = np.linalg.norm(V, axis=-1)  # (B, T)
    log_norm = np.mean(np.log(np.maximum(norms, np.finfo(float).tiny)), axis=0)[::-1]  # (T,) by lag k
    lo, hi = fit_lags
    k = np.arange(lo, hi + 1)
    slope = float(np.polyfit(k, log_norm[lo:hi + 1], 1)[0])
    a, b = ratio_lags
    return {"log_norm_by_lag": log_norm.tolist(), "decay_rate": slope,
            "ratio_lags": float(np.exp(log_norm[b] - log_norm[a]))}


def _elman_statistics(net, trials: Trials) -> dict:
    """<f'(a)^2> over the driven states, the drive's RMS per unit, ln rho(W_rec) and ln sigma_max(W_rec)."""
    r, _ = ann.forward(net, trials.inputs)  # (B, T, N), r_t = f(a_t) at alpha = 1
    drive = trials.inputs @ net.W_in.T  # (B, T, N) W_in u_t
    prev = np.concatenate([np.broadcast_to(net.x0, r[:, :1].shape), r[:, :-1]], axis=1)  # r_{t-1}
    a = drive + prev @ net.W_rec.T + net.b  # (B, T, N) pre-activations
    fp = activations.get(net.activation).df(a, r)
    return {"fprime2": float(np.mean(fp**2)), "drive_rms": float(np.sqrt(np.mean(drive**2))),
            "ln_rho": float(np.log(np.max(np.abs(np.linalg.eigvals(net.W_rec))))),
            "ln_sigma_max": float(np.log(np.linalg.norm(net.W_rec, 2)))}


def _free_trials(n_in: int, T: int, dt: float) -> Trials:
    """No input; the loss scores the last step (target 1), so that dL/dh_T is nonzero."""
    mask = np.zeros((1, T, 1))
    mask[:, -1] = 1.0
    return Trials(np.zeros((1, T, n_in)), np.ones((1, T, 1)), mask, dt)


def run(config: dict, seed: int) -> list[dict]:
    task = tasks.make("adding", duration=config["duration"], dt=config["dt"])
    trials = task.sample(config["n_trials"], rng=10_000 + seed)
    N, dt, fit_lags, ratio_lags = config["n_rec"], config["dt"], config["fit_lags"], config["ratio_lags"]
    if not fit_lags[1] < trials.n_steps or not ratio_lags[1] < trials.n_steps:
        raise ValueError(f"vanishing_gradients: fit_lags {fit_lags} and ratio_lags {ratio_lags} must be below the "
                         f"sequence length T = {trials.n_steps}; lengthen duration or shorten the lags")
    scale = float(np.sqrt(task.n_in / np.mean(np.sum(trials.inputs**2, axis=-1))))  # unit RMS drive per unit
    free = _free_trials(task.n_in, config["free_steps"], dt)
    free_lags = [config["free_steps"] // 2, config["free_steps"] - 1]
    build = lambda cell, **kw: _nets.build(cell, task.n_in, N, task.n_out, dt=dt, seed=seed, **kw)  # noqa: E731
    rows = []
    for g in config["gains"]:
        net = build("rnn", g=g, input_scale=scale)
        stats = _elman_statistics(net, trials)
        rows.append({"network": f"Elman g={g:g}", "cell": "rnn", "g": g, "stage": "init",
                     **_profile(net, trials, fit_lags, ratio_lags), **stats,
                     "mean_field": 0.5 * float(np.log(g * g * stats["fprime2"])),
                     "free_decay_rate": _profile(net, free, free_lags, ratio_lags)["decay_rate"]})
    for fb in config["forget_biases"]:
        net = build("lstm", forget_bias=fb)
        rows.append({"network": f"LSTM forget bias {fb:g}", "cell": "lstm", "forget_bias": fb, "stage": "init",
                     **_profile(net, trials, fit_lags, ratio_lags)})
    rows.append({"network": "GRU", "cell": "gru", "stage": "init", **_profile(build("gru"), trials, fit_lags,
                                                                                ratio_lags)})
    for cell, kw in (("rnn", {"g": config["train_g"], "input_scale": scale}), ("lstm", {})):
        net, rec = _nets.train_until(build(cell, **kw), task, config, seed, metric="mse", goal=TRAIN_GOAL_MSE)
        label = f"Elman g={config['train_g']:g}" if cell == "rnn" else "LSTM forget bias 1"
        rows.append({"network": label, "cell": cell, "stage": "trained", "steps": rec["steps"],
                     "val_mse": rec["val"][-1], **_profile(net, trials, fit_lags, ratio_lags)})
    for g in sorted({config["train_g"], 2.0}):
        with warnings.catch_warnings(record=True) as caught:  # a diverging run is a result: kept in "stopped"
            warnings.simplefilter("always")
            _, hist = _nets.fit(build("rnn", g=g, input_scale=scale), task, config, seed, clip=None,
                                steps=config["no_clip_steps"], validation=0, divergence=None)
        rows.append({"network": f"Elman g={g:g}", "cell": "rnn", "g": g, "stage": "no clip",
                     "grad_norm_by_step": hist.grad_norm, "loss_by_step": hist.loss, "stopped": hist.stopped,
                     "max_grad_norm": float(np.max(hist.grad_norm)) if hist.grad_norm else float("nan"),
                     "warnings": [str(w.message) for w in caught]})
    return rows


def _select(rows, **match):
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def check(rows: list[dict], config: dict):
    lags = config["ratio_lags"]
    checks, parts = [], []
    # 1. the decay rate against the mean field, driven Elman networks with g <= 1.2 (mean over seeds per g)
    errs = {}
    for g in [g for g in config["gains"] if g <= MF_MAX_G]:
        sel = _select(rows, cell="rnn", g=g, stage="init")
        fitted, mf = np.mean([r["decay_rate"] for r in sel]), np.mean([r["mean_field"] for r in sel])
        errs[g] = abs(fitted - mf) / abs(mf)
        parts.append(f"g = {g:g}: fitted {fitted:.3f} against mean field {mf:.3f} nats/step")
    worst = max(errs.values())
    checks.append(Check(f"driven Elman, g <= {MF_MAX_G:g}: largest |fitted - mean field| / |mean field|", worst,
                        f"<= {MF_TOLERANCE:g}", worst <= MF_TOLERANCE, SOURCE_MF))
    # 2. without input, against ln rho(W_rec), every seed and g < 1
    free = [r for r in _select(rows, cell="rnn", stage="init") if r["g"] < 1]
    rel = [abs(r["free_decay_rate"] - r["ln_rho"]) / abs(r["ln_rho"]) for r in free]
    worst_rho = max(rel) if rel else float("nan")
    checks.append(Check("no input, g < 1: largest |fitted - ln rho(W_rec)| / |ln rho| over seeds", worst_rho,
                        f"<= {RHO_TOLERANCE:g}", bool(rel) and worst_rho <= RHO_TOLERANCE, SOURCE_RHO))
    # 3. the Keras LSTM (forget bias 1) at initialisation
    lstm1 = np.mean([r["decay_rate"] for r in _select(rows, cell="lstm", forget_bias=1.0, stage="init")])
    lo, hi = LSTM_RANGE
    checks.append(Check("LSTM (Keras init, forget bias 1) decay rate at init, nats/step", lstm1,
                        f"in [{lo:g}, {hi:g}]", lo <= lstm1 <= hi, SOURCE_LSTM))
    # 4.-5. after training on adding: the gradient's reach, lag 90 over lag 1 (geometric mean over seeds)
    lstm_ratio = _nets.geomean([r["ratio_lags"] for r in _select(rows, cell="lstm", stage="trained")])
    elman_ratio = _nets.geomean([r["ratio_lags"] for r in _select(rows, cell="rnn", stage="trained")])
    checks.append(Check(f"trained LSTM: ||dL/dh|| at lag {lags[1]} / lag {lags[0]}", lstm_ratio,
                        f">= {LSTM_TRAINED_MIN:g}", lstm_ratio >= LSTM_TRAINED_MIN, SOURCE_TRAINED))
    checks.append(Check(f"trained Elman: ||dL/dh|| at lag {lags[1]} / lag {lags[0]}", elman_ratio,
                        f"< {ELMAN_TRAINED_MAX:g}", elman_ratio < ELMAN_TRAINED_MAX, SOURCE_TRAINED))
    # 6. exploding at g = 2: the gradient grows with the lag
    g2 = _select(rows, cell="rnn", g=2.0, stage="init")
    rate2 = float(np.mean([r["decay_rate"] for r in g2])) if g2 else float("nan")
    checks.append(Check("driven Elman g = 2: fitted rate (> 0 grows, i.e. explodes)", rate2, "> 0",
                        bool(g2) and rate2 > 0, SOURCE_EXPLODE))
    noclip = {r["g"]: r for r in _select(rows, cell="rnn", stage="no clip") if r["seed"] == 0}
    ratio = lambda rs: _nets.geomean([r["ratio_lags"] for r in rs])  # noqa: E731
    free_rates = {g: np.mean([r["free_decay_rate"] for r in _select(rows, cell="rnn", g=g, stage="init")])
                  for g in config["gains"]}
    mean_of = lambda field, **match: np.mean([r[field] for r in _select(rows, stage="init", **match)])  # noqa: E731
    loose = [g for g in config["gains"] if mean_of("ln_sigma_max", cell="rnn", g=g) > 0
             and mean_of("decay_rate", cell="rnn", g=g) < 0]
    bound = (f": positive while the gradient vanishes at g = {', '.join(f'{g:g}' for g in loose)}, so the bound "
             "does not decide vanishing" if loose else "")
    summary = (
        "Driven Elman networks (N = {N}, {S} seeds): {mf}. Without input the late decay rate follows "
        "ln rho(W_rec) (largest relative deviation {wr:.3g} for g < 1; free rates {fr}). The bound "
        "ln sigma_max(W_rec) is {sm} nats/step{bound}. "
        "Keras LSTM at init: forget bias 0, 1, 3 decay at {lf} nats/step; GRU {gru:.3f}. Lag-{b} over lag-{a} "
        "gradient ratio at init: Elman g = 1 {e1:.2g}, LSTM {l1:.2g}; after training on adding (T = {T}; at most "
        "{steps} steps; final validation MSE LSTM {lm:.3g}, Elman {em:.3g}): LSTM {lt:.3g}, Elman {et:.3g}. At "
        "g = 2 the ratio is {e2:.3g} (rate {r2:.3f}); trained without clipping the gradient norm reaches {gn2:.3g} "
        "at g = 2 against {gn1:.3g} at g = {g1:g} (seed 0)."
    ).format(
        N=config["n_rec"], S=len({r["seed"] for r in rows}), mf="; ".join(parts), wr=worst_rho, bound=bound,
        fr=", ".join(f"g={g:g}: {v:.3f}" for g, v in free_rates.items()),
        sm=", ".join(f"{mean_of('ln_sigma_max', cell='rnn', g=g):.2f}" for g in config["gains"]),
        lf=", ".join(f"{mean_of('decay_rate', cell='lstm', forget_bias=fb):.3f}" for fb in config["forget_biases"]),
        gru=np.mean([r["decay_rate"] for r in _select(rows, cell="gru", stage="init")]), a=lags[0], b=lags[1],
        e1=ratio(_select(rows, cell="rnn", g=config["train_g"], stage="init")),
        l1=ratio(_select(rows, cell="lstm", forget_bias=1.0, stage="init")), steps=config["steps"],
        T=round(config["duration"] / config["dt"]), lt=lstm_ratio,
        lm=np.mean([r["val_mse"] for r in _select(rows, cell="lstm", stage="trained")]),
        em=np.mean([r["val_mse"] for r in _select(rows, cell="rnn", stage="trained")]), et=elman_ratio, e2=ratio(g2), r2=rate2,
        gn2=noclip.get(2.0, {}).get("max_grad_norm", float("nan")),
        gn1=noclip.get(config["train_g"], {}).get("max_grad_norm", float("nan")), g1=config["train_g"])
    return verdict_from(checks, summary)


def figures(rows: list[dict], config: dict) -> dict:
    import matplotlib.pyplot as plt

    from .plotting import curves, mean_sd

    init = _select(rows, stage="init")
    names = list(dict.fromkeys(r["network"] for r in init))
    T = len(init[0]["log_norm_by_lag"])
    to10 = 1.0 / np.log(10.0)
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(config["gains"])))
    styles = {f"Elman g={g:g}": {"color": c} for g, c in zip(config["gains"], colours)}
    lstms = [n for n in names if n.startswith("LSTM")]
    reds = plt.get_cmap("autumn")(np.linspace(0, 0.7, max(len(lstms), 1)))
    styles.update({n: {"ls": "--", "color": c} for n, c in zip(lstms, reds)} | {"GRU": {"ls": ":", "color": "k"}})
    series = {}
    for n in names:
        m, s = mean_sd(_select(init, network=n), "log_norm_by_lag")
        series[n] = (m * to10, s * to10)
    ax1 = curves(np.arange(T), series, xlabel="lag k (steps before the scored step)",
                 ylabel="<log10 ||dL/dh_{T-k}||>", title="at initialisation (adding, mean ± sd over seeds)",
                 styles=styles)
    gains = config["gains"]
    elman = lambda g, f: mean_sd(_select(init, cell="rnn", g=g), f)  # noqa: E731
    stat = {f: np.array([elman(g, f) for g in gains]) for f in ("decay_rate", "mean_field", "free_decay_rate",
                                                                 "ln_rho", "ln_sigma_max")}
    ax2 = curves(gains, {"fitted, driven": tuple(stat["decay_rate"].T),
                         "mean field 1/2 ln(g^2 <f'^2>)": tuple(stat["mean_field"].T),
                         "fitted, no input": tuple(stat["free_decay_rate"].T),
                         "ln rho(W_rec)": tuple(stat["ln_rho"].T),
                         "ln sigma_max(W_rec) (bound)": tuple(stat["ln_sigma_max"].T)},
                 xlabel="gain g", ylabel="rate (nats per step)", title="Elman decay rate per step",
                 styles={"fitted, driven": {"marker": "o"}, "fitted, no input": {"marker": "s"},
                         "mean field 1/2 ln(g^2 <f'^2>)": {"ls": "--"}, "ln rho(W_rec)": {"ls": "--"},
                         "ln sigma_max(W_rec) (bound)": {"ls": ":"}})
    for fb in config["forget_biases"]:
        m, _ = mean_sd(_select(init, cell="lstm", forget_bias=fb), "decay_rate")
        ax2.axhline(float(m), color="0.5", lw=0.8, ls="-.")
        ax2.annotate(f"LSTM fb {fb:g}", (gains[0], float(m)), fontsize=6, color="0.4", va="bottom")
    ax2.axhline(0.0, color="k", lw=0.5)
    trained = _select(rows, stage="trained")
    series = {}
    for n in dict.fromkeys(r["network"] for r in trained):
        for stage in ("init", "trained"):
            if not _select(rows, network=n, stage=stage):
                continue  # the trained network's gain was not among the gains measured at initialisation
            m, s = mean_sd(_select(rows, network=n, stage=stage), "log_norm_by_lag")
            series[f"{n}, {stage}"] = (m * to10, s * to10)
    ax3 = curves(np.arange(T), series, xlabel="lag k", ylabel="<log10 ||dL/dh_{T-k}||>",
                 title=f"before and after training on adding (at most {config['steps']} steps)",
                 styles={k: {"ls": "--" if k.endswith("init") else "-"} for k in series})
    noclip = _select(rows, stage="no clip")
    series = {}
    for g in dict.fromkeys(r["g"] for r in noclip):
        sel = _select(noclip, g=g)
        n = min(len(r["grad_norm_by_step"]) for r in sel)
        m, s = mean_sd([{"x": r["grad_norm_by_step"][:n]} for r in sel], "x")
        series[f"Elman g={g:g}"] = (m, s)
    ax4 = curves(np.arange(1, len(next(iter(series.values()))[0]) + 1), series, logy=True, xlabel="training step",
                 ylabel="global gradient norm", title="training without clipping (adding)")
    return {"gradient_norms": ax1.figure, "decay_rates": ax2.figure, "trained": ax3.figure, "no_clip": ax4.figure}


EXPERIMENT = register(Experiment(
    name="vanishing_gradients",
    claim="Training an RNN by gradient descent through time suffers vanishing and exploding gradients on long "
          "sequences, which the LSTM eases.",
    citation="Bengio, Simard & Frasconi 1994; Hochreiter & Schmidhuber 1997; Pascanu, Mikolov & Bengio 2013",
    description="On the adding task (T = 100 steps, loss at the last step), the norm of dL/dh_{T-k} against the lag "
                "k, averaged over trials in log, for Elman networks (tanh, N = 64) over the gain g with the input "
                "drive at unit RMS per unit, Keras-initialised LSTMs with forget-gate bias 0, 1 and 3, and a GRU, at "
                "initialisation and after training on adding (until MSE < 0.01 or 3000 steps); its fitted slope (nats per step) beside the "
                "mean-field prediction 1/2 ln(g^2 <f'^2>) over the driven states, ln rho(W_rec) without input, and "
                "the bound ln sigma_max(W_rec); and the gradient norm while training without clipping at g = 2.",
    config=CONFIG, quick=QUICK, run=run, check=check, figures=figures,
    keys=("network", "stage"),
    columns=("decay_rate", "mean_field", "fprime2", "free_decay_rate", "ln_rho", "ln_sigma_max", "ratio_lags",
             "val_mse", "max_grad_norm"),
))
