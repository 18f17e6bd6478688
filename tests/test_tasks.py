"""The task library: one contract suite over every registered task, then each task's targets checked against
an independent recomputation from its inputs (or a closed form), then bad settings and bad calls."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.stats import norm

import neurosim as ns
from neurosim.tasks.prediction import MG_CENTER, MG_SCALE, integrate_mackey_glass, mackey_glass_rhs

NAMES = ns.tasks.names()


def sample(name, n=16, rng=0, **params):
    return ns.tasks.make(name, **params).sample(n, rng=rng)


# --- contract: every registered task ----------------------------------------------------------------------------


def test_the_library_is_registered():
    assert {"sine_prediction", "mackey_glass", "sine_generation", "delayed_recall", "adding", "flip_flop",
            "perceptual_decision"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    cls = ns.tasks.get(name)
    assert cls.name == name
    assert cls.description and "\n" not in cls.description
    assert cls.citation and cls.__doc__ and cls.__doc__.strip()
    assert cls.kind in ("regression", "decision")
    assert cls.n_in >= 1 and cls.n_out >= 1
    fields = {f.name for f in dataclasses.fields(cls)}
    assert not fields & {"tau", "n_rec", "hidden", "batch_size", "n_trials"}, "tasks know nothing of networks"


@pytest.mark.parametrize("name", NAMES)
def test_shapes_mask_and_info(name):
    task = ns.tasks.make(name)
    trials = task.sample(8, rng=0)
    B, T = 8, trials.n_steps
    assert trials.inputs.shape == (B, T, task.n_in)
    assert trials.targets.shape == (B, T, task.n_out)
    assert trials.mask.shape == (B, T, task.n_out)
    assert trials.dt == task.dt
    assert 50 <= T <= 400, "default trials stay short so that training in tests is fast"
    assert set(np.unique(trials.mask)) <= {0.0, 1.0}
    assert trials.mask.sum() > 0
    per_trial = [v for v in trials.info.values() if isinstance(v, np.ndarray)]
    assert per_trial, "per-trial labels live in info"
    assert all(v.shape[0] == B for v in per_trial)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trials_other_seed_other_trials(name):
    a, b, c = sample(name, rng=7), sample(name, rng=7), sample(name, rng=8)
    for field in ("inputs", "targets", "mask"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for key, value in a.info.items():
        np.testing.assert_array_equal(value, b.info[key])
    assert not np.array_equal(a.inputs, c.inputs)
    g = sample(name, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(g.inputs, a.inputs)


@pytest.mark.parametrize("name", NAMES)
def test_only_the_given_generator_is_used(name):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    rng = np.random.default_rng(5)
    sample(name, rng=rng)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert rng.bit_generator.state != np.random.default_rng(5).bit_generator.state, "the rng was consumed"


@pytest.mark.parametrize("name", NAMES)
def test_timing_is_in_seconds(name):
    coarse, fine = sample(name, n=4, dt=0.01), sample(name, n=4, dt=0.005)
    assert abs(fine.n_steps - 2 * coarse.n_steps) <= 2
    assert abs(fine.n_steps * fine.dt - coarse.n_steps * coarse.dt) <= 0.011
    assert fine.mask.mean() == pytest.approx(coarse.mask.mean(), abs=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_perfect_outputs_score_perfectly(name):
    task = ns.tasks.make(name)
    trials = task.sample(32, rng=1)
    scores = task.score(trials.targets, trials)
    assert scores["mse"] == 0.0
    if task.kind == "regression":
        assert set(scores) == {"mse", "nrmse", "r2"}
        assert scores["nrmse"] == 0.0 and scores["r2"] == 1.0
    else:
        assert scores["accuracy"] == 1.0
    wrong = task.score(-trials.targets + 0.5, trials)
    assert wrong["mse"] > 0.05
    if task.kind == "decision":
        assert wrong["accuracy"] < 0.5
    else:
        assert wrong["nrmse"] > 0.5


@pytest.mark.parametrize("name", NAMES)
def test_sliced_trials_score_and_params_round_trip(name):
    task = ns.tasks.make(name)
    trials = task.sample(6, rng=2)
    part = trials[1:4]
    assert task.score(part.targets, part)["mse"] == 0.0
    assert ns.tasks.make(name, **task.params()) == task
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.dt = 0.1


# --- each task's targets, recomputed independently ------------------------------------------------------------


def test_sine_prediction_target_is_the_next_clean_value():
    clean = sample("sine_prediction", observation_noise=0.0)
    np.testing.assert_allclose(clean.targets[:, :-1], clean.inputs[:, 1:], atol=1e-12)
    ahead = sample("sine_prediction", observation_noise=0.0, horizon=0.05)
    np.testing.assert_allclose(ahead.targets[:, :-5], ahead.inputs[:, 5:], atol=1e-12)

    task = ns.tasks.make("sine_prediction", observation_noise=0.1)
    noisy = task.sample(64, rng=3)
    t = (np.arange(noisy.n_steps) + 1) * task.dt  # the next step's time
    s_next = sum(a * np.sin(2 * np.pi * f * t[None, :] + noisy.info["phase"][:, [i]])
                 for i, (f, a) in enumerate(zip(task.frequencies, task.amplitudes)))
    np.testing.assert_allclose(noisy.targets[..., 0], s_next, atol=1e-12)
    residual = noisy.inputs[:, 1:, 0] - noisy.targets[:, :-1, 0]
    assert np.std(residual) == pytest.approx(0.1, rel=0.05)
    washout = round(task.washout / task.dt)
    assert not noisy.mask[:, :washout].any() and noisy.mask[:, washout:].all()


def test_sine_prediction_noise_is_not_a_floor():
    task = ns.tasks.make("sine_prediction")
    trials = task.sample(64, rng=4)
    persistence = task.score(trials.inputs, trials)["nrmse"]  # predict "as observed now"
    clean_now = task.score(trials.info["clean"][..., None], trials)["nrmse"]  # needs perfect denoising
    assert clean_now < persistence


def test_mackey_glass_first_delay_interval_matches_the_closed_form():
    # For 0 <= t <= delay the delayed term is the constant history x0, so the equation is linear:
    # x(t) = c / gamma + (x0 - c / gamma) exp(-gamma t) with c = beta x0 / (1 + x0^10).
    x0 = np.array([0.5, 0.9, 1.2])
    x, _ = integrate_mackey_glass(x0, 17.0, 0.25)
    t = np.arange(x.shape[0]) * 0.25
    c = 0.2 * x0 / (1 + x0**10)
    exact = c / 0.1 + (x0 - c / 0.1) * np.exp(-0.1 * t[:, None])
    np.testing.assert_allclose(x, exact, rtol=0, atol=1e-8)  # RK4: ~(gamma h)^5 / 120 per step


def test_mackey_glass_second_delay_interval_matches_scipy():
    # On [delay, 2 delay] the delayed term is the closed form above: an ODE for scipy at tight tolerance.
    x0 = 0.9
    c = 0.2 * x0 / (1 + x0**10)
    first = lambda t: c / 0.1 + (x0 - c / 0.1) * np.exp(-0.1 * t)  # noqa: E731
    ref = solve_ivp(lambda t, x: mackey_glass_rhs(x, first(t - 17.0)), (17.0, 34.0), [first(17.0)],
                    rtol=1e-12, atol=1e-14, dense_output=True)
    x, _ = integrate_mackey_glass(np.array([x0]), 34.0, 0.25)
    t = np.arange(x.shape[0]) * 0.25
    late = t >= 17.0
    np.testing.assert_allclose(x[late, 0], ref.sol(t[late])[0], rtol=0, atol=1e-8)


def test_mackey_glass_integrator_converges_at_fourth_order():
    series = [ns.tasks.make("mackey_glass", integration_step=h, transient=100.0).sample(4, rng=3).info["series"]
              for h in (1.0, 0.5, 0.25, 0.125)]
    diffs = [np.max(np.abs(a - b)) for a, b in zip(series, series[1:])]
    orders = np.log2(np.array(diffs[:-1]) / np.array(diffs[1:]))
    assert diffs[-1] < 1e-6
    np.testing.assert_allclose(orders, 4.0, atol=0.3)


def test_mackey_glass_range_normalisation_and_horizon():
    task = ns.tasks.make("mackey_glass")
    trials = task.sample(32, rng=5)
    x = trials.info["series"]
    assert 0.2 < x.min() < 0.6 and 1.1 < x.max() < 1.4, "the known attractor range, ~[0.42, 1.32]"
    z = (x - MG_CENTER) / MG_SCALE
    assert np.abs(z).max() < 1.2
    H = round(task.horizon / task.dt)
    np.testing.assert_allclose(trials.inputs[..., 0], z[:, : trials.n_steps])
    np.testing.assert_allclose(trials.targets[:, :-H], trials.inputs[:, H:])
    assert not np.allclose(trials.inputs[0], trials.inputs[1]), "trials differ"


def test_sine_generation_cue_amplitude_sets_the_frequency():
    task = ns.tasks.make("sine_generation", frequency_range=(1.0, 3.0), cue_range=(0.2, 1.0))
    trials = task.sample(32, rng=6)
    C = round(task.cue / task.dt)
    cue = trials.inputs[:, 0, 0]
    assert np.all(trials.inputs[:, :C, 0] == cue[:, None]) and not trials.inputs[:, C:].any()
    f = 1.0 + (cue - 0.2) / 0.8 * 2.0  # invert the linear map by hand
    np.testing.assert_allclose(f, trials.info["frequency"])
    t = np.arange(1, trials.n_steps - C + 1) * task.dt
    np.testing.assert_allclose(trials.targets[:, C:, 0], np.sin(2 * np.pi * f[:, None] * t[None, :]), atol=1e-12)
    assert not trials.mask[:, :C].any() and trials.mask[:, C:].all()
    assert task.cue_amplitude(1.0) == pytest.approx(0.2) and task.cue_amplitude(3.0) == pytest.approx(1.0)
    np.testing.assert_array_equal(trials.info["cue_amplitude"], cue)
    single = ns.tasks.make("sine_generation", frequency_range=(2.0, 2.0)).sample(4, rng=0)
    assert np.all(single.info["frequency"] == 2.0) and np.all(single.inputs[:, 0, 0] == 0.2)


def test_delayed_recall_reproduces_the_value_in_the_response_period():
    task = ns.tasks.make("delayed_recall", delay=(0.3, 0.9))
    trials = task.sample(64, rng=7)
    F, S = round(task.fixation / task.dt), round(task.stimulus / task.dt)
    value = trials.inputs[:, F, 0]
    assert np.all(trials.inputs[:, F:F + S, 0] == value[:, None])
    assert not trials.inputs[:, :F].any() and not trials.inputs[:, F + S:, 0].any()
    go = trials.inputs[..., 1] == 1
    np.testing.assert_array_equal(trials.mask[..., 0], go)
    np.testing.assert_array_equal(trials.targets[..., 0], np.where(go, value[:, None], 0.0))
    onset = np.argmax(go, axis=1)
    delay_steps = onset - (F + S)
    assert delay_steps.min() >= 30 and delay_steps.max() <= 90 and len(np.unique(delay_steps)) > 5
    np.testing.assert_allclose(trials.info["delay"], delay_steps * task.dt)
    assert np.all(go.sum(axis=1) == round(task.response / task.dt))
    fixed = sample("delayed_recall", delay=0.4)
    assert np.all(fixed.info["delay"] == pytest.approx(0.4))


@settings(max_examples=20, deadline=None)
@given(duration=st.floats(0.05, 2.0), seed=st.integers(0, 2**32 - 1))
def test_adding_target_is_the_sum_of_the_two_marked_values(duration, seed):
    task = ns.tasks.make("adding", duration=duration)
    trials = task.sample(8, rng=seed)
    values, markers = trials.inputs[..., 0], trials.inputs[..., 1]
    T = trials.n_steps
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, : T // 2].sum(axis=1) == 1) and np.all(markers[:, T // 2:].sum(axis=1) == 1)
    np.testing.assert_allclose(trials.targets[:, -1, 0], (values * markers).sum(axis=1))
    assert np.all(trials.mask[:, -1] == 1) and trials.mask.sum() == len(trials)
    assert not trials.targets[:, :-1].any()


def flip_flop_reference(inputs):
    """The sign of the last nonzero input per channel, and whether one has arrived yet, by a plain loop."""
    B, T, C = inputs.shape
    targets, mask = np.zeros_like(inputs), np.zeros_like(inputs)
    for b in range(B):
        for c in range(C):
            last = 0.0
            for k in range(T):
                if inputs[b, k, c] != 0:
                    last = np.sign(inputs[b, k, c])
                targets[b, k, c], mask[b, k, c] = last, last != 0
    return targets, mask


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.5, 10.0), pulse=st.floats(0.01, 0.2), dt=st.sampled_from([0.005, 0.01, 0.02]),
       seed=st.integers(0, 2**32 - 1))
def test_flip_flop_target_is_the_sign_of_the_last_pulse(rate, pulse, dt, seed):
    task = ns.tasks.make("flip_flop", pulse_rate=rate, pulse_duration=max(pulse, dt), dt=dt)
    trials = task.sample(4, rng=seed)
    assert set(np.unique(trials.inputs)) <= {-1.0, 0.0, 1.0}
    targets, mask = flip_flop_reference(trials.inputs)
    np.testing.assert_array_equal(trials.targets, targets)
    np.testing.assert_array_equal(trials.mask, mask)


def runs(v):
    """(value, length, reaches_the_end) for each run of equal values in the 1-D sequence v."""
    edges = np.flatnonzero(np.diff(v)) + 1
    starts, stops = np.concatenate([[0], edges]), np.concatenate([edges, [len(v)]])
    return [(v[a], b - a, b == len(v)) for a, b in zip(starts, stops)]


def test_flip_flop_pulses_have_their_duration_and_rate_in_seconds():
    counts = {}
    for dt in (0.01, 0.005):
        task = ns.tasks.make("flip_flop", dt=dt, pulse_duration=0.05)
        trials = task.sample(400, rng=8)
        P = round(0.05 / dt)
        lengths = [n for b in range(40) for c in range(3)
                   for value, n, at_end in runs(trials.inputs[b, :, c]) if value != 0 and not at_end]
        assert lengths and all(n % P == 0 for n in lengths), "a run of pulse steps is a whole number of pulses"
        counts[dt] = trials.info["n_pulses"].mean()
    assert counts[0.005] == pytest.approx(counts[0.01], rel=0.08), "pulse_rate is in Hz, not per step"
    p, P = 2.0 * 0.01, 5  # expected onsets in 2 s: a renewal process with mean interval P + (1 - p) / p steps
    assert counts[0.01] == pytest.approx(200 / (P + (1 - p) / p), rel=0.1)


def test_flip_flop_accuracy_counts_signs_on_scored_entries():
    task = ns.tasks.make("flip_flop")
    trials = task.sample(16, rng=9)
    assert task.score(0.01 * trials.targets, trials)["accuracy"] == 1.0
    flipped = trials.targets.copy()
    scored = np.argwhere(trials.mask == 1)
    half = scored[: len(scored) // 2]
    flipped[tuple(half.T)] *= -1
    assert task.score(flipped, trials)["accuracy"] == pytest.approx(1 - len(half) / len(scored))
    outside = np.where(trials.mask == 1, trials.targets, 5.0)  # unscored entries do not count
    assert task.score(outside, trials)["accuracy"] == 1.0


def test_perceptual_decision_correct_choice_has_the_larger_mean_evidence():
    task = ns.tasks.make("perceptual_decision", evidence_noise=0.0)
    trials = task.sample(64, rng=10)
    F, S = round(task.fixation / task.dt), round(task.stimulus / task.dt)
    evidence = trials.inputs[:, F:F + S, 1:].mean(axis=1)  # (B, 2)
    c = trials.info["coherence"]
    np.testing.assert_allclose(np.abs(evidence[:, 0] - evidence[:, 1]), c)
    informative = c > 0
    np.testing.assert_array_equal(np.argmax(evidence, axis=1)[informative], trials.info["choice"][informative])
    decision = trials.inputs[..., 0] == 0
    assert np.all(decision[:, -round(task.decision / task.dt):]) and not decision[:, :-20].any()
    chosen = np.zeros_like(trials.targets)
    chosen[np.arange(64), :, trials.info["choice"]] = 1.0
    np.testing.assert_array_equal(trials.targets, chosen * decision[..., None])
    assert not trials.inputs[:, :F, 1:].any() and not trials.inputs[:, F + S:, 1:].any()


@pytest.mark.parametrize("dt", [0.01, 0.005])
def test_perceptual_decision_noise_matches_the_ideal_observer(dt):
    # Summing the evidence difference over the stimulus gives d' = c * S / (sqrt(2) * sigma * sqrt(S)),
    # whatever dt is, if the per-step noise is sigma / sqrt(dt).
    task = ns.tasks.make("perceptual_decision", dt=dt, coherences=(0.032, 0.128))
    trials = task.sample(4000, rng=11)
    F, S = round(task.fixation / dt), round(task.stimulus / dt)
    diff = (trials.inputs[:, F:F + S, 1] - trials.inputs[:, F:F + S, 2]).sum(axis=1) * dt
    ideal = np.where(diff > 0, 0, 1) == trials.info["choice"]
    for c in (0.032, 0.128):
        expected = norm.cdf(c * task.stimulus / (np.sqrt(2 * task.stimulus) * task.evidence_noise))
        got = ideal[trials.info["coherence"] == c].mean()
        assert got == pytest.approx(expected, abs=0.035)


def test_perceptual_decision_scores_per_coherence():
    task = ns.tasks.make("perceptual_decision")
    trials = task.sample(300, rng=12)
    c, choice = trials.info["coherence"], trials.info["choice"]
    assert set(np.unique(c)) == set(task.coherences)
    right = c == max(task.coherences)  # answer correctly only at the highest coherence
    picked = np.where(right, choice, 1 - choice)
    outputs = np.zeros_like(trials.targets)
    outputs[np.arange(300), -5:, picked] = 1.0  # only the decision period matters for accuracy
    scores = task.score(outputs, trials)
    assert scores["accuracy_max_coherence"] == 1.0 and scores["accuracy_c0.512"] == 1.0
    assert scores["accuracy_c0.032"] == 0.0 and scores["accuracy_c0"] == 0.0
    assert scores["accuracy"] == pytest.approx(right.mean())
    assert task.score(np.zeros_like(outputs), trials)["mse"] > 0


# --- bad settings and bad calls ---------------------------------------------------------------------------------

DURATIONS = {
    "sine_prediction": ["duration", "washout", "horizon"],
    "mackey_glass": ["duration", "washout", "horizon"],
    "sine_generation": ["cue", "duration"],
    "delayed_recall": ["fixation", "stimulus", "delay", "response"],
    "adding": ["duration"],
    "flip_flop": ["duration", "pulse_duration"],
    "perceptual_decision": ["fixation", "stimulus", "decision"],
}
CASES = [(name, field) for name, fields in DURATIONS.items() for field in fields + ["dt"]]


@pytest.mark.parametrize("name, field", CASES)
@pytest.mark.parametrize("bad", [0.0, -0.2])
def test_non_positive_durations_are_refused(name, field, bad):
    cls = ns.tasks.get(name)
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{field}.*{bad}"):
        ns.tasks.make(name, **{field: bad})


@pytest.mark.parametrize("name, field", CASES)
def test_non_numeric_durations_are_refused(name, field):
    with pytest.raises(TypeError, match=rf"{ns.tasks.get(name).__name__}\.{field}"):
        ns.tasks.make(name, **{field: "1 s"})


@pytest.mark.parametrize("name, field", [("delayed_recall", "response"), ("flip_flop", "pulse_duration")])
def test_durations_shorter_than_a_step_are_refused(name, field):
    with pytest.raises(ValueError, match=rf"{field}.*smaller dt"):
        ns.tasks.make(name, dt=0.01, **{field: 0.001})


@pytest.mark.parametrize("name, params, match", [
    ("delayed_recall", {"delay": (0.9, 0.3)}, r"DelayedRecall\.delay.*low <= high"),
    ("delayed_recall", {"delay": (0.1, 0.2, 0.3)}, r"DelayedRecall\.delay.*pair"),
    ("perceptual_decision", {"delay": -0.1}, r"PerceptualDecision\.delay"),
    ("perceptual_decision", {"coherences": (0.1, 1.5)}, r"PerceptualDecision\.coherences.*1\.5"),
    ("perceptual_decision", {"coherences": ()}, r"PerceptualDecision\.coherences"),
    ("perceptual_decision", {"evidence_noise": -1.0}, r"PerceptualDecision\.evidence_noise"),
    ("perceptual_decision", {"evidence_noise": float("nan")}, r"PerceptualDecision\.evidence_noise"),
    ("flip_flop", {"pulse_rate": 0.0}, r"FlipFlop\.pulse_rate"),
    ("flip_flop", {"pulse_rate": 500.0}, r"FlipFlop\.pulse_rate.*1 / dt"),
    ("sine_prediction", {"amplitudes": (1.0,)}, r"SinePrediction\.amplitudes.*3 values"),
    ("sine_prediction", {"observation_noise": -0.1}, r"SinePrediction\.observation_noise"),
    ("sine_prediction", {"washout": 5.0}, r"SinePrediction\.washout.*duration"),
    ("sine_generation", {"frequency_range": (3.0, 1.0)}, r"SineGeneration\.frequency_range"),
    ("sine_generation", {"frequency_range": (0.0, 1.0)}, r"SineGeneration\.frequency_range.*positive"),
    ("mackey_glass", {"integration_step": 0.3}, r"MackeyGlass\.integration_step.*whole"),
    ("mackey_glass", {"beta": -0.2}, r"MackeyGlass\.beta"),
    ("adding", {"duration": 0.01}, r"Adding\.duration.*at least 2"),
])
def test_bad_settings_are_refused(name, params, match):
    with pytest.raises(ValueError, match=match):
        ns.tasks.make(name, **params)


@pytest.mark.parametrize("name, params, match", [
    ("perceptual_decision", {"coherences": 0.5}, r"PerceptualDecision\.coherences.*tuple"),
    ("perceptual_decision", {"coherences": ("high",)}, r"PerceptualDecision\.coherences"),
    ("flip_flop", {"pulse_rate": True}, r"FlipFlop\.pulse_rate"),
])
def test_badly_typed_settings_are_refused(name, params, match):
    with pytest.raises(TypeError, match=match):
        ns.tasks.make(name, **params)


def test_lists_from_spec_files_become_tuples():
    task = ns.tasks.make("perceptual_decision", coherences=[0.1, 0.2])
    assert task.coherences == (0.1, 0.2)
    assert hash(task) == hash(ns.tasks.make("perceptual_decision", coherences=(0.1, 0.2)))
    assert ns.tasks.make("delayed_recall", delay=[0.2, 0.4]).delay == (0.2, 0.4)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter_is_refused(name):
    with pytest.raises(ValueError, match=rf"{name}.*unknown parameter.*'tau'.*allowed"):
        ns.tasks.make(name, tau=0.1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("8", TypeError)])
def test_bad_n_trials_is_refused(name, n, error):
    with pytest.raises(error, match="n_trials"):
        ns.tasks.make(name).sample(n, rng=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("rng", ["seed", -1, 1.5, None, np.random.RandomState(0)])
def test_bad_rng_is_refused(name, rng):
    with pytest.raises(TypeError, match="rng"):
        ns.tasks.make(name).sample(4, rng=rng)


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown task 'flipflop'.*flip_flop"):
        ns.tasks.make("flipflop")


def test_score_checks_the_outputs_shape():
    task = ns.tasks.make("flip_flop")
    trials = task.sample(4, rng=0)
    with pytest.raises(ValueError, match="outputs"):
        task.score(trials.targets[:, :, :2], trials)


def test_perceptual_decision_score_needs_its_labels():
    task = ns.tasks.make("perceptual_decision")
    trials = task.sample(4, rng=0)
    bare = ns.tasks.Trials(trials.inputs, trials.targets, trials.mask, trials.dt, info={})
    with pytest.raises(ValueError, match="lacks 'coherence'"):
        task.score(trials.targets, bare)


def test_sample_needs_an_explicit_rng_and_a_generator_draws_fresh_trials():
    task = ns.tasks.make("flip_flop", dt=0.01)
    with pytest.raises(TypeError, match=r"FlipFlop.sample: pass rng="):
        task.sample(4)
    np.testing.assert_array_equal(task.sample(4, rng=1).inputs, task.sample(4, rng=1).inputs)
    gen = np.random.default_rng(1)
    assert not np.array_equal(task.sample(4, rng=gen).inputs, task.sample(4, rng=gen).inputs)
