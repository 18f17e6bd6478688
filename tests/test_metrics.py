"""Signal metrics against closed forms: shifted and scaled sines, constant errors, a known spectrum."""

import numpy as np
import pytest

from neurosim.analysis import metrics

DT = 0.001
PERIOD = 0.2
T = np.arange(1, 2001) * DT  # 2 s: 10 whole periods


def sine(shift=0.0, amp=1.0):
    return amp * np.sin(2 * np.pi * (T - shift) / PERIOD)


def test_nrmse_and_mae_closed_forms():
    f = sine()
    assert metrics.nrmse(f, f) == 0.0
    assert metrics.nrmse(np.zeros_like(f), f) == pytest.approx(1.0, rel=1e-12)  # rms = std for a zero-mean sine
    assert metrics.nrmse(0.7 * f, f) == pytest.approx(0.3, rel=1e-12)
    assert metrics.mae(np.zeros_like(f), f) == pytest.approx(2 / np.pi, rel=1e-4)  # mean |sin|, 200 samples a period
    assert metrics.mae(f + 0.25, f) == pytest.approx(0.25, rel=1e-12)
    # a phase error phi gives NRMSE 2 sin(phi / 2)
    phi = 2 * np.pi * 0.01 / PERIOD
    assert metrics.nrmse(sine(shift=0.01), f) == pytest.approx(2 * np.sin(phi / 2), rel=1e-6)


@pytest.mark.parametrize("shift_steps", [-20, 0, 7, 33])
def test_best_lag_correlation_finds_the_shift(shift_steps):
    f = sine()
    y = sine(shift=-shift_steps * DT)  # y(t) = f(t + shift): y[t - shift] = f[t]... so output[t + lag] = f[t]
    corr, lag = metrics.best_lag_correlation(y, f, max_lag=40)
    assert lag == -shift_steps
    assert corr == pytest.approx(1.0, abs=1e-12)
    err, lag2 = metrics.aligned_nrmse(y, f, max_lag=40)
    assert lag2 == -shift_steps and err < 1e-12


def test_lag_outside_the_tolerance_gives_the_cosine_of_the_remaining_phase():
    f = sine()
    y = sine(shift=PERIOD / 4)  # a quarter period late; the search stops at 1/6 period
    max_lag = metrics.lag_steps(PERIOD, DT)
    assert max_lag == round(PERIOD / 6 / DT)
    corr, lag = metrics.best_lag_correlation(y, f, max_lag=max_lag)
    assert lag == max_lag
    assert corr == pytest.approx(np.cos(2 * np.pi * (1 / 4 - max_lag * DT / PERIOD)), abs=2e-3)


def test_zero_lag_correlation_is_pearson():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(500), rng.standard_normal(500)
    corr, lag = metrics.best_lag_correlation(a, b)
    assert lag == 0 and corr == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)


@pytest.mark.parametrize("freq", [1.3, 5.0, 12.5])
def test_peak_frequency(freq):
    x = np.sin(2 * np.pi * freq * T) + 0.3
    bin_width = 1 / (16 * len(T) * DT)
    assert abs(metrics.peak_frequency(x, DT) - freq) <= bin_width


def test_amplitude_ratio():
    assert metrics.amplitude_ratio(sine(amp=0.8) + 3.0, sine()) == pytest.approx(0.8, rel=1e-12)


def test_force_success_on_closed_forms():
    f = sine()
    ok = metrics.force_success(f, f, period=PERIOD, dt=DT)
    assert ok["success"] and ok["nrmse"] == 0 and ok["window"] == 400
    late = metrics.force_success(sine(shift=0.02), f, period=PERIOD, dt=DT)  # 20 steps late, tolerance 33
    assert late["corr"] == pytest.approx(1.0, abs=1e-9) and late["lag"] == 20  # within the lag tolerance ...
    assert late["nrmse"] == pytest.approx(2 * np.sin(np.pi * 0.02 / PERIOD), rel=1e-6)  # ... but not the NRMSE
    assert not late["success"]
    small = metrics.force_success(0.95 * f, f, period=PERIOD, dt=DT)
    assert small["nrmse"] == pytest.approx(0.05, rel=1e-9) and small["success"]
    # only the first two periods count: garbage afterwards does not matter
    y = f.copy()
    y[500:] = 0.0
    assert metrics.force_success(y, f, period=PERIOD, dt=DT)["success"]


def test_two_channels_share_the_lag():
    f = np.stack([sine(), sine(shift=0.05)], axis=1)  # (T, 2)
    y = np.roll(f, 5, axis=0)
    corr, lag = metrics.best_lag_correlation(y, f, max_lag=10)
    assert lag == 5 and corr == pytest.approx(1.0, abs=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"nrmse: expected output and target of one shape"):
        metrics.nrmse(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="constant"):
        metrics.nrmse(np.zeros(5), np.ones(5))
    with pytest.raises(ValueError, match="max_lag = 10 steps leaves no overlap"):
        metrics.best_lag_correlation(np.arange(5.0), np.arange(5.0), max_lag=10)
    with pytest.raises(ValueError, match="at least 2 periods = 400 steps"):
        metrics.force_success(sine()[:100], sine()[:100], period=PERIOD, dt=DT)
    with pytest.raises(ValueError, match="finite"):
        metrics.mae(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))
