"""LSTM and GRU cells against references: finite differences, the equations written out, and PyTorch autograd."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.ann import GatedNetwork, _buffers, gru, interchange, lstm, rnn
from neurosim.tasks import Trials
from gradcheck import numerical_grads

CELLS = ("lstm", "gru")


def _problem(cell, out_act="identity", loss="mse", seed=0, B=3, T=7, n_in=2, H=5, n_out=3, dtype=np.float64):
    """A small network with nonzero biases and initial state, and trials with a random output mask."""
    rng = np.random.default_rng(seed)
    net = GatedNetwork.random(n_in, H, n_out, cell=cell, init="pytorch", output_activation=out_act, rng=seed)
    net = net.replace(h0=rng.normal(size=H) * 0.5, c0=rng.normal(size=H) * 0.5 if cell == "lstm" else None)
    targets = rng.random((B, T, n_out)) if loss == "mse" else np.eye(n_out)[rng.integers(0, n_out, (B, T))]
    mask = (rng.random((B, T, n_out)) < 0.7).astype(float)
    return net.astype(dtype), Trials(rng.normal(size=(B, T, n_in)), targets, mask, net.dt)


def _rel_errors(grads: dict, reference: dict) -> dict:
    """Per field: max |error| relative to the max |gradient| of that field."""
    return {k: np.max(np.abs(grads[k] - reference[k])) / max(np.max(np.abs(reference[k])), 1e-12) for k in reference}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("out_act,loss,kw", [
    ("identity", "mse", dict(l2=0.01, l2_rate=0.1)),
    ("softmax", "ce", {}),
    ("identity", "mse", dict(dropout=0.3, rng=5)),  # the same seed draws the same dropout mask
])
def test_bptt_matches_finite_differences(cell, out_act, loss, kw):
    net, trials = _problem(cell, out_act, loss)
    _, grads = ns.ann.loss_and_grads(net, trials, loss=loss, **kw)
    assert set(grads) == set(net.trainable)
    errors = _rel_errors(grads, numerical_grads(net, trials, loss=loss, **kw))
    assert max(errors.values()) <= 1e-6, errors


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _reference_forward(net, u):
    """The cell equations written out step by step, as in the PyTorch documentation."""
    H = net.n_rec
    h = np.tile(net.h0, (u.shape[0], 1))
    c = np.tile(net.c0, (u.shape[0], 1)) if net.cell == "lstm" else None
    hs = []
    for t in range(u.shape[1]):
        gx = u[:, t] @ net.W_ih.T + net.b_ih
        gh = h @ net.W_hh.T + net.b_hh
        if net.cell == "lstm":
            a = gx + gh
            i, f, g, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            r = _sigmoid(gx[:, :H] + gh[:, :H])
            z = _sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, 1)


@pytest.mark.parametrize("cell", CELLS)
def test_forward_matches_the_equations(cell):
    net, trials = _problem(cell, T=12)
    states, outputs = ns.ann.forward(net, trials.inputs)
    hs = _reference_forward(net, trials.inputs)
    np.testing.assert_allclose(states, hs, rtol=0, atol=1e-14)
    np.testing.assert_allclose(outputs, hs @ net.W_out.T + net.b_out, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_stays_float32(cell):
    net, trials = _problem(cell, dtype=np.float32)
    states, outputs = ns.ann.forward(net, trials.inputs)
    _, grads = ns.ann.loss_and_grads(net, trials, l2=0.01, l2_rate=0.1, dropout=0.2, rng=0)
    assert states.dtype == outputs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    cache = {"lstm": lstm, "gru": gru}[cell].run(net, np.zeros((7, 3, 2), np.float32), None)
    internal = {k: v.dtype for k, v in vars(cache).items() if isinstance(v, np.ndarray)}
    assert set(internal.values()) == {np.dtype(np.float32)}, internal  # no silent float64 buffers
    net64 = net.astype(np.float64)
    _, grads64 = ns.ann.loss_and_grads(net64, trials, l2=0.01, l2_rate=0.1, dropout=0.2, rng=0)
    assert max(_rel_errors(grads, grads64).values()) < 1e-5  # float32 round-off, not a different function


@pytest.mark.parametrize("cell", CELLS)
def test_save_load_round_trip_is_bit_exact(cell, tmp_path):
    net, _ = _problem(cell, dtype=np.float32)
    net.save(tmp_path / "net")
    back = ns.load(tmp_path / "net")
    assert isinstance(back, GatedNetwork) and back.cell == cell and back.dt == net.dt
    assert back.output_activation == net.output_activation
    for k in GatedNetwork._arrays:
        a, b = getattr(net, k), getattr(back, k)
        assert (a is None and b is None) or (a.dtype == b.dtype and np.array_equal(a, b)), k


@pytest.mark.parametrize("cell", CELLS)
def test_random_initialisations(cell):
    H, G = 16, {"lstm": 4, "gru": 3}[cell]
    keras = GatedNetwork.random(3, H, 2, cell=cell, init="keras", rng=0)
    np.testing.assert_allclose(keras.W_hh.T @ keras.W_hh, np.eye(H), atol=1e-12)  # Keras' Orthogonal
    assert np.abs(keras.W_ih).max() <= np.sqrt(6 / (3 + G * H))  # Glorot-uniform
    forget = np.zeros(G * H)
    if cell == "lstm":
        forget[H:2 * H] = 1.0  # unit_forget_bias
    np.testing.assert_array_equal(keras.b_ih, forget)
    torch_like = GatedNetwork.random(3, H, 2, cell=cell, init="pytorch", rng=0, dtype=np.float32)
    assert torch_like.dtype == np.float32
    for k in GatedNetwork.trainable:
        assert np.abs(getattr(torch_like, k)).max() <= 1 / np.sqrt(H), k
    assert not np.array_equal(GatedNetwork.random(3, H, 2, cell=cell, rng=1).W_hh, keras.W_hh)
    assert np.array_equal(GatedNetwork.random(3, H, 2, cell=cell, rng=0).W_hh, keras.W_hh)


@pytest.mark.parametrize("cell", CELLS)
def test_training_reduces_the_loss(cell):
    net = GatedNetwork.random(1, 8, 1, cell=cell, rng=0)
    t = np.arange(40) * 0.1
    u = np.sin(t + np.arange(16)[:, None])[..., None]  # (16, 40, 1)
    trials = Trials(u[:, :-1], u[:, 1:], np.ones_like(u[:, 1:]), net.dt)  # predict the next sample
    before = ns.ann.loss_and_grads(net, trials)[0]
    trained, history = ns.train(net, trials, steps=60, lr=1e-2, batch_size=16, rng=0, progress=False)
    assert isinstance(trained, GatedNetwork) and trained is not net
    assert ns.ann.loss_and_grads(trained, trials)[0] < 0.5 * before


# -- reused buffers never overwrite results that are still held ------------------------------------------------

def test_buffer_pool_reuses_only_released_arrays():
    _buffers.clear()
    shape = (64, 1023)  # 256 KiB in float32: pooled
    address = lambda x: x.__array_interface__["data"][0]  # noqa: E731
    a = _buffers.empty(shape, np.float32)
    b = _buffers.empty(shape, np.float32)
    assert not np.shares_memory(a, b)  # `a` is held
    view, a_at, b_at = a[1:], address(a), address(b)
    del a, b
    assert address(_buffers.empty(shape, np.float32)) == b_at  # a view keeps `a` in use; `b` is handed out
    del view
    assert address(_buffers.empty(shape, np.float32)) == a_at  # released: handed out again
    small = _buffers.empty((4, 4), np.float32)
    assert not np.shares_memory(small, _buffers.empty((4, 4), np.float32))  # small: not pooled
    _buffers.clear()


@pytest.mark.parametrize("shape,dtype", [((64, 1023), np.float32), ((3, 5), np.float64), ((7,), np.float32)])
def test_buffers_start_on_a_cache_line(shape, dtype):
    """Pooled or not, reused or fresh: the kernels' and BLAS's loads never straddle lines at an array's start."""
    _buffers.clear()
    arrays = [_buffers.empty(shape, dtype) for _ in range(3)]
    arrays.append(_buffers.copy(np.ones(shape, dtype).T))
    del arrays[0]
    arrays.append(_buffers.empty(shape, dtype))  # a reused one, if pooled
    for a in arrays:
        assert a.__array_interface__["data"][0] % _buffers.ALIGN == 0
        assert a.flags.c_contiguous and a.flags.writeable and a.dtype == dtype
    _buffers.clear()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_held_results_survive_later_calls(kind):
    rng = np.random.default_rng(0)
    B, T, H = 32, 50, 64  # large enough for every per-step buffer to be pooled
    if kind == "rnn":
        net = ns.RateNetwork.random(3, H, 2, tau=0.01, dt=0.01, rng=0)
    else:
        net = GatedNetwork.random(3, H, 2, cell=kind, rng=0)
    trials = [Trials(rng.normal(size=(B, T, 3)), rng.normal(size=(B, T, 2)), np.ones((B, T, 2)), net.dt)
              for _ in range(2)]
    states, outputs = ns.ann.forward(net, trials[0].inputs)
    kept = states.copy(), outputs.copy()
    cell = {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]
    u = np.ascontiguousarray(trials[0].inputs.transpose(1, 0, 2))
    cache = cell.run(net, u, None)
    S = cache.S.copy()
    _, grads = ns.ann.loss_and_grads(net, trials[0])
    kept_grads = {k: v.copy() for k, v in grads.items()}
    for t in (trials[1], trials[0], trials[1]):  # other data through the same shapes
        ns.ann.forward(net, t.inputs)
        ns.ann.loss_and_grads(net, t, dropout=0.2, l2_rate=0.1, rng=0)
    np.testing.assert_array_equal(states, kept[0])
    np.testing.assert_array_equal(outputs, kept[1])
    np.testing.assert_array_equal(cache.S, S)
    assert all(np.array_equal(grads[k], kept_grads[k]) for k in grads)
    assert not np.array_equal(ns.ann.forward(net, trials[1].inputs)[0], states)  # the calls did compute


BAD = [
    (dict(cell="rnn"), ValueError, r"GatedNetwork\.cell: expected one of \['gru', 'lstm'\].*RateNetwork"),
    (dict(W_hh=np.zeros((20, 4))), ValueError, r"GatedNetwork\.W_hh: expected shape \(16, 4\), got \(20, 4\)"),
    (dict(W_ih=np.zeros((16, 2, 1))), ValueError, r"GatedNetwork\.W_ih: expected shape \(20, any\)"),
    (dict(W_ih=np.zeros((16, 2))), ValueError, r"GatedNetwork\.W_ih: expected shape \(20, any\), got \(16, 2\)"),
    (dict(b_ih=np.zeros(16)), ValueError, r"GatedNetwork\.b_ih: expected shape \(20\)"),
    (dict(b_hh=np.zeros(21)), ValueError, r"GatedNetwork\.b_hh: expected shape \(20\)"),
    (dict(W_out=np.zeros((2, 3))), ValueError, r"GatedNetwork\.W_out: expected shape \(any, 5\)"),
    (dict(b_out=np.zeros(3)), ValueError, r"GatedNetwork\.b_out: expected shape \(2\)"),
    (dict(h0=np.zeros(4)), ValueError, r"GatedNetwork\.h0: expected shape \(5\)"),
    (dict(c0=np.zeros(6)), ValueError, r"GatedNetwork\.c0: expected shape \(5\)"),
    (dict(W_hh=np.full((20, 5), np.nan)), ValueError, r"GatedNetwork\.W_hh: expected finite values"),
    (dict(W_ih="weights"), TypeError, r"GatedNetwork\.W_ih: expected a numeric array"),
    (dict(dt=-0.01), ValueError, r"GatedNetwork\.dt: expected a positive"),
    (dict(output_activation="relu"), ValueError, r"GatedNetwork\.output_activation: expected one of"),
]


@pytest.mark.parametrize("change,error,match", BAD)
def test_bad_fields_name_the_field(change, error, match):
    fields = {f: getattr(GatedNetwork.random(2, 5, 2, cell="lstm", rng=0), f)
              for f in ("cell", "W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out", "dt")}
    fields.update(change)
    with pytest.raises(error, match=match):
        GatedNetwork(**fields)


def test_gru_has_no_cell_state_and_no_noise():
    net = GatedNetwork.random(2, 5, 2, cell="gru", rng=0)
    with pytest.raises(ValueError, match=r"GatedNetwork\.c0: a GRU has no cell state"):
        net.replace(c0=np.zeros(5))
    with pytest.raises(ValueError, match=r"no recurrent noise"):
        ns.ann.forward(net, np.zeros((1, 3, 2)), noise_increments=np.zeros((1, 3, 5)))
    assert ns.ann.noise_increments(net, 1, 3, rng=0) is None
    with pytest.raises(ValueError, match=r"GatedNetwork\.random init: expected one of"):
        GatedNetwork.random(2, 5, 2, init="xavier")
    with pytest.raises(ValueError, match=r"inputs: expected shape \(any, any, 2\)"):
        ns.ann.forward(net, np.zeros((1, 3, 4)))


# -- PyTorch autograd as the oracle ----------------------------------------------------------------------------

def _torch_modules(net, torch):
    """nn.RNN / nn.LSTM / nn.GRU + nn.Linear (float64, batch_first) loaded with the exported state dicts."""
    recurrent, readout = interchange.to_torch(net)
    if isinstance(net, ns.RateNetwork):
        rnn = torch.nn.RNN(net.n_in, net.n_rec, nonlinearity=net.activation, batch_first=True, dtype=torch.float64)
    else:
        rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[net.cell](net.n_in, net.n_rec, batch_first=True,
                                                                    dtype=torch.float64)
    linear = torch.nn.Linear(net.n_rec, net.n_out, dtype=torch.float64)
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in recurrent.items()})
    linear.load_state_dict({k: torch.from_numpy(v) for k, v in readout.items()})
    return rnn, linear


def _torch_names(net):
    """neurosim's field for each torch parameter, in rnn.parameters() + linear.parameters() order."""
    if isinstance(net, ns.RateNetwork):
        return ["W_in", "W_rec", "b", "b", "W_out", "b_out"]  # b = bias_ih + bias_hh: both get db
    return ["W_ih", "W_hh", "b_ih", "b_hh", "W_out", "b_out"]


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_outputs_and_gradients_match_torch_modules(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    B, T, n_in, H, n_out = 4, 30, 3, 12, 2
    if kind.startswith("rnn"):
        net = ns.RateNetwork.random(n_in, H, n_out, tau=0.01, dt=0.01, activation=kind[4:], rng=7)
        net = net.replace(b=rng.normal(size=H) * 0.3)
    else:
        net = GatedNetwork.random(n_in, H, n_out, cell=kind, init="pytorch", rng=7)
    trials = Trials(rng.normal(size=(B, T, n_in)), rng.normal(size=(B, T, n_out)),
                    (rng.random((B, T, n_out)) < 0.7).astype(float), net.dt)
    rnn, linear = _torch_modules(net, torch)
    y = linear(rnn(torch.from_numpy(trials.inputs))[0])
    mask = torch.from_numpy(trials.mask)
    loss = ((y - torch.from_numpy(trials.targets)) ** 2 * mask).sum() / mask.sum()  # the same masked MSE
    loss.backward()

    _, outputs = ns.ann.forward(net, trials.inputs)
    value, grads = ns.ann.loss_and_grads(net, trials)
    np.testing.assert_allclose(outputs, y.detach().numpy(), rtol=0, atol=1e-10)
    assert abs(value - loss.item()) <= 1e-10
    for name, p in zip(_torch_names(net), list(rnn.parameters()) + list(linear.parameters())):
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cache_reports_gates_in_pytorch_order(kind):
    # the cells keep their gates in an internal order; cache.gates (and the LSTM's cache.cs) give PyTorch's
    rng = np.random.default_rng(4)
    net = GatedNetwork.random(2, 3, 1, cell=kind, init="pytorch", rng=4)
    x = rng.normal(size=(1, 2, 2))  # (T, B, n_in), one step
    cache = (lstm if kind == "lstm" else gru).run(net, x, None)
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    a_i, a_h = net.W_ih @ x[0].T + net.b_ih[:, None], net.W_hh @ np.zeros((3, 2)) + net.b_hh[:, None]  # (G H, B)
    if kind == "lstm":
        a = a_i + a_h
        want = np.concatenate([sig(a[:6]), np.tanh(a[6:9]), sig(a[9:])])  # i, f, g, o
        np.testing.assert_allclose(cache.cs[1], want[:3] * want[6:9], rtol=1e-12, atol=1e-15)  # c0 = 0: c = i g
    else:
        rz = sig(a_i[:6] + a_h[:6])
        want = np.concatenate([rz, np.tanh(a_i[6:] + rz[:3] * a_h[6:])])  # r, z, n
    np.testing.assert_allclose(cache.gates[0], want, rtol=1e-12, atol=1e-15)
