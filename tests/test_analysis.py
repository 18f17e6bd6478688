"""Spike statistics against closed forms: Poisson (CV = 1, Fano = 1), gamma (CV = 1/sqrt(k)), regular trains
(CV = 0, Fano = 0 in windows of whole periods), exact counts, and trace comparison identities."""

import numpy as np
import pytest

from neurosim.analysis import (compare_traces, fano_factor, firing_rates, isi_cv, population_raster,
                               rate_distribution, spike_counts)


def renewal_trains(n_neurons, duration, rate, rng, shape=1.0):
    """Spike times and indices of independent gamma renewal processes (shape 1: Poisson) at ``rate`` Hz."""
    times, indices = [], []
    for k in range(n_neurons):
        n = int(3 * rate * duration) + 50
        isi = rng.gamma(shape, 1.0 / (shape * rate), size=n)  # mean ISI 1/rate, CV 1/sqrt(shape)
        t = np.cumsum(isi)
        t = t[t < duration]
        times.append(t)
        indices.append(np.full(len(t), k))
    times, indices = np.concatenate(times), np.concatenate(indices)
    order = np.argsort(times, kind="stable")  # as a SpikeMonitor gives them: in time order
    return times[order], indices[order]


def regular_train(n_neurons, duration, period):
    t = np.arange(1, int(round(duration / period))) * period - period / 2  # spikes mid-period, none on edges
    times = np.tile(t, n_neurons)
    indices = np.repeat(np.arange(n_neurons), len(t))
    return times, indices


def test_poisson_train_has_cv_and_fano_of_one():
    rng = np.random.default_rng(0)
    times, indices = renewal_trains(40, 100.0, 20.0, rng)
    cv = isi_cv(times, indices, 40)
    assert np.mean(cv) == pytest.approx(1.0, abs=0.03)  # ~2000 ISIs per neuron, 40 neurons
    counts = spike_counts(times, indices, 40, np.arange(0.0, 100.0 + 1e-9, 1.0))  # (40, 100) windows of 1 s
    assert counts.shape == (40, 100)
    assert np.mean(fano_factor(counts)) == pytest.approx(1.0, abs=0.06)
    rates = firing_rates(times, indices, 40, 100.0)
    assert np.mean(rates) == pytest.approx(20.0, rel=0.02)


def test_gamma_train_cv_is_one_over_sqrt_shape():
    rng = np.random.default_rng(1)
    times, indices = renewal_trains(20, 100.0, 25.0, rng, shape=4.0)
    assert np.mean(isi_cv(times, indices, 20)) == pytest.approx(0.5, abs=0.02)


def test_regular_train_has_cv_and_fano_of_zero():
    times, indices = regular_train(5, 10.0, 0.01)
    assert np.all(np.abs(isi_cv(times, indices, 5)) < 1e-9)
    counts = spike_counts(times, indices, 5, np.arange(0.0, 9.9 + 1e-9, 0.1))  # windows of 10 periods
    assert np.all(counts == 10)
    assert np.all(fano_factor(counts) == 0.0)


def test_counts_and_rates_are_exact():
    times = np.array([0.05, 0.1, 0.15, 0.5, 0.7, 0.95])
    indices = np.array([0, 2, 0, 0, 1, 2])
    assert np.array_equal(firing_rates(times, indices, 4, 1.0), [3.0, 1.0, 2.0, 0.0])
    assert np.array_equal(firing_rates(times, indices, 4, 0.5, t_start=0.5), [2.0, 2.0, 2.0, 0.0])
    counts = spike_counts(times, indices, 4, [0.0, 0.5, 1.0])
    assert np.array_equal(counts, [[2, 1], [0, 1], [1, 1], [0, 0]])
    cv = isi_cv(times, indices, 4, min_spikes=3)
    isi = np.diff([0.05, 0.15, 0.5])
    assert cv[0] == pytest.approx(np.std(isi) / np.mean(isi))
    assert np.all(np.isnan(cv[1:]))  # fewer than 3 spikes


def test_across_trial_fano_factor():
    counts = np.array([[2, 0], [4, 0], [6, 0]])  # (trials, neurons)
    ff = fano_factor(counts, axis=0)
    assert ff[0] == pytest.approx(np.var([2, 4, 6], ddof=1) / 4.0)
    assert np.isnan(ff[1])  # silent neuron


def test_rate_distribution_summary():
    dist = rate_distribution(np.array([0.0, 0.0, 10.0, 20.0]), bins=2)
    assert dist["fraction_silent"] == 0.5
    assert dist["mean"] == 7.5 and dist["max"] == 20.0
    assert dist["counts"].sum() == 4 and len(dist["edges"]) == 3


def test_population_raster_orders_excitatory_first_and_filters_time():
    times = np.array([0.1, 0.2, 0.3, 0.4])
    indices = np.array([0, 1, 2, 1])
    dale = np.array([-1.0, 1.0, 1.0])
    data = population_raster(times, indices, 3, dale=dale, t_range=(0.15, 0.5))
    assert np.array_equal(data["rows"], [1, 2, 0])  # E neurons 1 and 2, then I neuron 0
    assert np.array_equal(data["t"], [0.2, 0.3, 0.4])
    assert np.array_equal(data["row"], [0, 1, 0])
    assert np.all(data["excitatory"])


def test_compare_traces_identities():
    t = np.linspace(0, 1, 200)
    rate = np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)], axis=-1)[None]  # (1, T, 2)
    same = compare_traces(rate, rate)
    assert np.allclose(same["correlation"], 1.0) and np.allclose(same["rmse"], 0.0)
    affine = compare_traces(rate, 3.0 * rate + 1.0)
    assert np.allclose(affine["correlation"], 1.0) and affine["correlation"].shape == (1, 2)
    assert np.allclose(compare_traces(rate, -rate)["correlation"], -1.0)
    assert np.allclose(compare_traces(rate, rate + 0.1)["rmse"], 0.1)


def test_bad_spike_data_names_the_field():
    with pytest.raises(ValueError, match="n_neurons"):
        firing_rates([0.1, 0.2], [0, 5], 3, 1.0)
    with pytest.raises(ValueError, match="indices"):
        isi_cv([0.1, 0.2], [0], 3)
    with pytest.raises(ValueError, match="edges"):
        spike_counts([0.1], [0], 1, [1.0, 0.5])
    with pytest.raises(ValueError, match="spiking"):
        compare_traces(np.zeros((3, 2)), np.zeros((2, 3)))
