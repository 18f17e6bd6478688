"""The periodic targets: closed forms of each waveform, the phase, the prompt and the noisy/clean pair."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.tasks import periodic

NAMES = ["sine", "four_sines", "noisy_four_sines", "triangle", "square", "sixteen_sines"]


def test_the_family_is_registered():
    assert set(NAMES) <= set(ns.tasks.names())


def test_four_sines_is_sussillo_and_abbotts_target():
    """Their code: ft = (1.3/1.5) (sin(pi t/60) + sin(2 pi t/60)/2 + sin(3 pi t/60)/6 + sin(4 pi t/60)/3), t in tau."""
    task = ns.tasks.make("four_sines", dt=0.001, duration=2.4, random_phase=False)
    trials = task.sample(1, rng=0)
    t_tau = trials.t / 0.01  # time in units of tau = 10 ms: the period 1.2 s is 120 tau
    ft = 1.3 * (np.sin(np.pi * t_tau / 60) + np.sin(2 * np.pi * t_tau / 60) / 2 + np.sin(3 * np.pi * t_tau / 60) / 6
                + np.sin(4 * np.pi * t_tau / 60) / 3) / 1.5
    np.testing.assert_allclose(trials.targets[0, :, 0], ft, rtol=0, atol=1e-12)
    periods = [1.2 / k for k in (1, 2, 3, 4)]  # 120, 60, 40, 30 tau
    np.testing.assert_allclose(np.array(periods) / 0.01, [120, 60, 40, 30])


@pytest.mark.parametrize("name, closed_form", [
    ("sine", lambda phi: np.sin(2 * np.pi * phi)),
    ("triangle", lambda phi: np.interp(phi, [0, 0.25, 0.75, 1], [0, 1, -1, 0])),
    ("square", lambda phi: np.where(phi < 0.5, 1.0, -1.0)),
])
def test_waveforms(name, closed_form):
    task = ns.tasks.make(name, dt=0.001, random_phase=False)
    trials = task.sample(1, rng=0)
    phi = np.mod(trials.t / task.period, 1.0)
    np.testing.assert_allclose(trials.targets[0, :, 0], closed_form(phi), atol=1e-12)


def test_sixteen_sines_has_sixteen_harmonics_and_unit_peak():
    task = ns.tasks.make("sixteen_sines", dt=0.001, duration=2.4, random_phase=False)
    y = task.sample(1, rng=0).targets[0, :, 0]  # one period of 2400 samples
    spectrum = np.abs(np.fft.rfft(y)) / len(y)
    harmonics = np.flatnonzero(spectrum > 1e-6)
    np.testing.assert_array_equal(harmonics, np.arange(1, 17))
    assert np.max(np.abs(y)) == pytest.approx(1.0, abs=2e-3)
    other = ns.tasks.make("sixteen_sines", dt=0.001, duration=2.4, random_phase=False, pattern_seed=1)
    assert not np.allclose(other.sample(1, rng=0).targets, task.sample(1, rng=0).targets)


def test_random_phase_shifts_the_pattern():
    task = ns.tasks.make("sine", dt=0.001)
    trials = task.sample(4, rng=3)
    phi0 = trials.info["phase"]
    assert np.all((0 <= phi0) & (phi0 < 1)) and len(np.unique(phi0)) == 4
    expected = np.sin(2 * np.pi * (trials.t[None, :] / task.period + phi0[:, None]))
    np.testing.assert_allclose(trials.targets[..., 0], expected, atol=1e-12)


def test_prompt_shows_the_target_then_the_input_is_silent():
    task = ns.tasks.make("triangle", dt=0.01, cue=0.3)
    trials = task.sample(3, rng=1)
    C = 30
    np.testing.assert_array_equal(trials.inputs[:, :C], trials.targets[:, :C])
    assert np.all(trials.inputs[:, C:] == 0)
    assert np.all(trials.mask[:, :C] == 0) and np.all(trials.mask[:, C:] == 1)


def test_noisy_target_and_its_clean_version():
    task = ns.tasks.make("noisy_four_sines", dt=0.001, duration=20.0)
    trials = task.sample(1, rng=2)
    clean = trials.info["clean_targets"]
    noise = trials.targets - clean
    assert noise.std() == pytest.approx(task.noise, rel=0.02) and abs(noise.mean()) < 0.005
    same = ns.tasks.make("four_sines", dt=0.001, duration=20.0).sample(1, rng=2)
    np.testing.assert_allclose(clean, same.targets, atol=1e-12)  # the same pattern and phase without noise
    np.testing.assert_array_equal(same.info["clean_targets"], same.targets)


@pytest.mark.parametrize("params, err, match", [
    (dict(period=0.0), ValueError, r"Sine\.period"),
    (dict(period=0.001, dt=0.001), ValueError, r"Sine\.period.*at least 2"),
    (dict(amplitude=0.0), ValueError, r"Sine\.amplitude"),
    (dict(noise=-0.1), ValueError, r"Sine\.noise"),
    (dict(cue=3.0), ValueError, r"Sine\.cue: expected less than duration"),
    (dict(random_phase="yes"), TypeError, r"Sine\.random_phase"),
])
def test_bad_settings(params, err, match):
    with pytest.raises(err, match=match):
        ns.tasks.make("sine", **params)


def test_tasks_know_nothing_about_networks():
    assert periodic.FourSines().period == 1.2  # seconds, not tau
    assert "tau" not in periodic.FourSines().params()
