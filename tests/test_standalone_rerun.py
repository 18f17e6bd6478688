"""neurosim.brian.standalone: a cpp_standalone rate network compiled once reruns on new trials (Brian2 run_args)
and gives, run after run, what the artificial RNN gives on the same trials and noise (round-off, as in
tests/test_rate.py), without rebuilding."""

import os

import numpy as np
import pytest

import neurosim as ns

pytestmark = [pytest.mark.brian2, pytest.mark.slow]  # one C++ standalone build (~15-40 s on 2 loaded cores)

TOL = 1e-10


def test_one_build_reruns_on_fresh_trials_and_noise(cache):
    from neurosim.brian.standalone import compiled_rate

    task = ns.tasks.make("flip_flop", dt=0.01, duration=0.5)
    net = ns.RateNetwork.random(n_in=3, n_rec=12, n_out=3, tau=0.05, dt=0.01, sigma=0.2, g=1.3, rng=3)
    batches = [task.sample(3, rng=seed) for seed in (0, 1, 2)]
    with compiled_rate(net, 3, batches[0].n_steps, noise_mode="matched", cache_dir=cache) as sim:
        binary = os.path.join(sim._directory, "main")
        built = os.stat(binary).st_mtime_ns
        runs = []
        for seed, trials in enumerate(batches):
            increments = ns.equations.noise_increments(net, 3, trials.n_steps, rng=100 + seed)  # (B, T, N)
            states, outputs = ns.ann.forward(net, trials.inputs, noise_increments=increments)
            run = sim.run(trials.inputs, noise_increments=increments)
            np.testing.assert_allclose(run.states, states, atol=TOL, rtol=0)
            readout = ns.equations.readout(net.W_out, net.b_out, ns.equations.source(net, run.states))
            np.testing.assert_allclose(readout, outputs, atol=TOL, rtol=0)
            runs.append(run)
        with pytest.raises(ValueError, match=r"expected shape \(3, 50, 3\)"):
            sim.run(batches[0].inputs[:2])
        assert os.stat(binary).st_mtime_ns == built  # the one binary ran three times: never rebuilt
        directory = sim._directory
    assert not os.path.exists(directory)  # leaving the block removed the project
    with pytest.raises(RuntimeError, match="was closed"):
        sim.run(batches[0].inputs)
    assert np.abs(runs[0].states - runs[1].states).max() > 0.1  # new trials, new trajectories
    assert [r.metadata["compiled_runs"] for r in runs] == [1, 2, 3]
    assert [r.metadata["reused_build"] for r in runs] == [False, True, True]


def test_one_spiking_build_reruns_with_new_trials_and_initial_potentials(cache):
    """Each rerun equals spiking.run on cpp_standalone with the build's seed and the run's rng, spike for spike."""
    from neurosim.brian import spiking
    from neurosim.brian.standalone import compiled_spiking

    task = ns.tasks.make("flip_flop", dt=0.01, duration=0.3)
    net = ns.RateNetwork.random(n_in=3, n_rec=10, n_out=3, tau=0.05, dt=0.01, form="current",
                                activation="sigmoid", g=1.0, rng=4)
    snet = ns.to_spiking(net, lam=40.0)
    batches = [task.sample(2, rng=seed) for seed in (5, 6)]
    with compiled_spiking(snet, 2, batches[0].n_steps, seed=11, cache_dir=cache) as sim:
        binary = os.path.join(sim._directory, "main")
        built = os.stat(binary).st_mtime_ns
        runs = [sim.run(b.inputs, rng=20 + k) for k, b in enumerate(batches)]
        assert os.stat(binary).st_mtime_ns == built
    reference = spiking.run(snet, batches[1].inputs, device="cpp_standalone", seed=11, rng=21, cache_dir=cache)
    np.testing.assert_array_equal(runs[1].states, reference.states)
    for got, want in zip(runs[1].spike_times + runs[1].spike_indices, reference.spike_times + reference.spike_indices):
        np.testing.assert_array_equal(got, want)
    assert sum(len(t) for t in reference.spike_times) > 10  # the network spikes: the comparison has content
    assert not np.array_equal(runs[0].states, runs[1].states)


def test_simulate_reuses_the_build_across_calls_and_other_brian2_runs(cache):
    """simulate(..., "rate", device="cpp_standalone") twice on the same network: the second call reruns the first
    call's binary (no compile) and still equals the ANN; a runtime Brian2 run in between does not disturb it, and
    Brian2's global device is runtime again after each call."""
    import brian2

    from neurosim.brian import standalone

    standalone.clear_builds()
    task = ns.tasks.make("flip_flop", dt=0.01, duration=0.4)
    net = ns.RateNetwork.random(n_in=3, n_rec=8, n_out=3, tau=0.05, dt=0.01, g=1.2, rng=7)
    first, second = (task.sample(2, rng=s) for s in (1, 2))
    a = ns.simulate(net, first, "rate", device="cpp_standalone", cache_dir=cache)
    assert type(brian2.get_device()).__name__ == "RuntimeDevice"
    between = ns.simulate(net, second, "rate", target="numpy", cache_dir=cache)  # runtime, in the same process
    b = ns.simulate(net, second, "rate", device="cpp_standalone", cache_dir=cache)
    assert type(brian2.get_device()).__name__ == "RuntimeDevice"
    assert (a.metadata["reused_build"], b.metadata["reused_build"]) == (False, True)
    assert a.metadata["timings"]["compile"] > 0 and b.metadata["timings"]["compile"] == 0
    assert b.build_time < 0.5 * a.build_time  # the compile happened once, in the first call
    for res, trials in ((a, first), (b, second)):
        np.testing.assert_allclose(res.outputs, ns.simulate(net, trials, "ann").outputs, atol=TOL, rtol=0)
    np.testing.assert_allclose(b.states, between.states, atol=TOL, rtol=0)
    other = net.replace(b=net.b + 0.1)  # another network: another build, not the cached one
    assert other.fingerprint() != net.fingerprint()
    c = ns.simulate(other, second, "rate", device="cpp_standalone", cache_dir=cache, reuse=False)
    assert "reused_build" not in c.metadata and np.abs(c.states - b.states).max() > 1e-3
    standalone.clear_builds()


def test_spiking_substrate_reuses_the_build_without_membrane_noise(cache):
    from neurosim.brian import spiking, standalone

    standalone.clear_builds()
    task = ns.tasks.make("flip_flop", dt=0.01, duration=0.3)
    net = ns.RateNetwork.random(n_in=3, n_rec=10, n_out=3, tau=0.05, dt=0.01, form="current",
                                activation="sigmoid", g=1.0, rng=4)
    snet = ns.to_spiking(net, lam=40.0)
    first, second = (task.sample(2, rng=s) for s in (3, 4))
    a = ns.simulate(snet, first, "spiking", device="cpp_standalone", noise_mode=None, rng=0, cache_dir=cache)
    b = ns.simulate(snet, second, "spiking", device="cpp_standalone", noise_mode=None, rng=1, cache_dir=cache)
    assert (a.metadata["reused_build"], b.metadata["reused_build"]) == (False, True)
    v_seed = int(np.random.default_rng(1).integers(2**31 - 1, size=2)[1])  # as the substrate draws it
    reference = spiking.run(snet, second.inputs, sim_dt=snet.sim_dt, membrane_noise=False, rng=v_seed,
                            target="numpy", cache_dir=cache)
    np.testing.assert_array_equal(np.concatenate(b.extras["spike_indices"]),
                                  np.concatenate(reference.spike_indices))
    assert sum(len(t) for t in reference.spike_times) > 10
    standalone.clear_builds()
