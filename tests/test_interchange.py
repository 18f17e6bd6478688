"""Weight interchange with PyTorch and Keras layouts: exact round trips, Keras' equations, and clear refusals."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.ann import GatedNetwork, interchange

KINDS = ("rnn", "lstm", "gru")
G = {"rnn": 1, "lstm": 4, "gru": 3}


def _net(kind, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if kind == "rnn":
        net = ns.RateNetwork.random(3, 6, 2, tau=0.01, dt=0.01, rng=seed).replace(b=rng.normal(size=6))
    else:
        net = GatedNetwork.random(3, 6, 2, cell=kind, init="pytorch", rng=seed)
    return net.astype(dtype)


def _torch_dicts(kind, seed=0, zero_bias_hh=False):
    """Random PyTorch-layout dicts (n_in 3, H 6, n_out 2), as nn.RNN/LSTM/GRU + nn.Linear state dicts."""
    rng = np.random.default_rng(seed)
    GH = G[kind] * 6
    rec = {"weight_ih_l0": rng.normal(size=(GH, 3)), "weight_hh_l0": rng.normal(size=(GH, 6)),
           "bias_ih_l0": rng.normal(size=GH), "bias_hh_l0": np.zeros(GH) if zero_bias_hh else rng.normal(size=GH)}
    return rec, {"weight": rng.normal(size=(2, 6)), "bias": rng.normal(size=2)}


def _keras_dicts(kind, seed=0, dtype=np.float64):
    """Random Keras-layout dicts: SimpleRNN/LSTM/GRU(reset_after=True) + Dense weights."""
    rng = np.random.default_rng(seed)
    GH = G[kind] * 6
    bias = rng.normal(size=(2, GH)) if kind == "gru" else rng.normal(size=GH)
    rec = {"kernel": rng.normal(size=(3, GH)), "recurrent_kernel": rng.normal(size=(6, GH)), "bias": bias}
    dense = {"kernel": rng.normal(size=(6, 2)), "bias": rng.normal(size=2)}
    return ({k: v.astype(dtype) for k, v in rec.items()}, {k: v.astype(dtype) for k, v in dense.items()})


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


def _same_net(a, b) -> bool:
    return type(a) is type(b) and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in a.trainable)


# -- exact round trips ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_neurosim_torch_neurosim_is_exact(kind, dtype):
    net = _net(kind, dtype=dtype)
    back = interchange.from_torch(*interchange.to_torch(net))
    assert _same_net(net, back) and back.dtype == dtype


@pytest.mark.parametrize("kind", KINDS)
def test_torch_neurosim_torch_is_exact(kind):
    rec, out = _torch_dicts(kind, zero_bias_hh=kind == "rnn")  # nn.RNN's two biases become one b
    rec2, out2 = interchange.to_torch(interchange.from_torch(rec, out))
    assert _same(rec, rec2) and _same(out, out2)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_round_trips_are_exact(kind, dtype):
    rec, dense = _keras_dicts(kind, dtype=dtype)
    assert all(_same(a, b) for a, b in zip((rec, dense), interchange.to_keras(interchange.from_keras(rec, dense))))
    torch_layout = interchange.keras_to_torch(rec, dense)
    assert all(_same(a, b) for a, b in zip((rec, dense), interchange.torch_to_keras(*torch_layout)))


@pytest.mark.parametrize("kind", KINDS)
def test_torch_keras_torch_is_exact(kind):
    # Keras' SimpleRNN and LSTM have one bias: exact when PyTorch's bias_hh is zero; the GRU keeps both
    rec, out = _torch_dicts(kind, zero_bias_hh=kind != "gru")
    rec2, out2 = interchange.keras_to_torch(*interchange.torch_to_keras(rec, out))
    assert _same(rec, rec2) and _same(out, out2)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_single_bias_layouts_sum_the_two_biases(kind):
    net = _net(kind) if kind == "lstm" else None
    rec, out = _torch_dicts(kind)
    k_rec, _ = interchange.torch_to_keras(rec, out)
    np.testing.assert_array_equal(k_rec["bias"], rec["bias_ih_l0"] + rec["bias_hh_l0"])
    if net is not None:  # neurosim -> Keras -> neurosim: the same function, with the bias moved into b_ih
        back = interchange.from_keras(*interchange.to_keras(net))
        assert np.array_equal(back.b_ih, net.b_ih + net.b_hh) and not back.b_hh.any()
        u = np.random.default_rng(1).normal(size=(2, 9, 3))
        np.testing.assert_allclose(ns.ann.forward(back, u)[1], ns.ann.forward(net, u)[1], rtol=0, atol=1e-14)
        keras_init = GatedNetwork.random(3, 6, 2, cell="lstm", init="keras", rng=0)  # b_hh = 0: exact
        assert _same_net(keras_init, interchange.from_keras(*interchange.to_keras(keras_init)))


def test_gated_neurosim_keras_neurosim_is_exact_for_the_gru():
    net = _net("gru")
    assert _same_net(net, interchange.from_keras(*interchange.to_keras(net)))


# -- Keras' equations, written out from its documentation and source ---------------------------------------------

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _keras_forward(kind, rec, dense, u, activation=np.tanh):
    """keras.layers.SimpleRNN / LSTM / GRU(reset_after=True) followed by Dense, step by step."""
    K, U, b = rec["kernel"], rec["recurrent_kernel"], rec["bias"]
    H = U.shape[0]
    h, c, ys = np.zeros((u.shape[0], H)), np.zeros((u.shape[0], H)), []
    for t in range(u.shape[1]):
        x = u[:, t]
        if kind == "rnn":
            h = activation(x @ K + h @ U + b)
        elif kind == "lstm":  # gates i, f, c, o
            a = x @ K + h @ U + b
            i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
            c = f * c + i * np.tanh(a[:, 2 * H:3 * H])
            h = o * np.tanh(c)
        else:  # gates z, r, h; bias = [input bias; recurrent bias]
            mx, mh = x @ K + b[0], h @ U + b[1]
            z = _sigmoid(mx[:, :H] + mh[:, :H])
            r = _sigmoid(mx[:, H:2 * H] + mh[:, H:2 * H])
            hh = np.tanh(mx[:, 2 * H:] + r * mh[:, 2 * H:])
            h = z * h + (1 - z) * hh
        ys.append(h @ dense["kernel"] + dense["bias"])
    return np.stack(ys, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_keras_weights_compute_keras_outputs(kind):
    rec, dense = _keras_dicts(kind, seed=3)
    rec = {k: v * 0.4 for k, v in rec.items()}  # keep the units out of saturation
    u = np.random.default_rng(4).normal(size=(3, 15, 3))
    _, outputs = ns.ann.forward(interchange.from_keras(rec, dense), u)
    np.testing.assert_allclose(outputs, _keras_forward(kind, rec, dense, u), rtol=0, atol=1e-12)


def test_keras_simple_rnn_takes_any_activation():
    rec, dense = _keras_dicts("rnn", seed=5)
    u = np.random.default_rng(6).normal(size=(2, 10, 3))
    net = interchange.from_keras(rec, dense, activation="sigmoid")
    np.testing.assert_allclose(ns.ann.forward(net, u)[1], _keras_forward("rnn", rec, dense, u, _sigmoid),
                               rtol=0, atol=1e-12)
    assert _same(interchange.to_keras(net)[0], rec)


@pytest.mark.torch
@pytest.mark.parametrize("kind", KINDS)
def test_torch_modules_import_to_the_same_function(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](3, 6, batch_first=True,
                                                                                dtype=torch.float64)
    linear = torch.nn.Linear(6, 2, dtype=torch.float64)
    net = interchange.from_torch({k: v.numpy() for k, v in rnn.state_dict().items()},
                                 {k: v.numpy() for k, v in linear.state_dict().items()})
    u = np.random.default_rng(0).normal(size=(2, 20, 3))
    with torch.no_grad():
        y = linear(rnn(torch.from_numpy(u))[0]).numpy()
    np.testing.assert_allclose(ns.ann.forward(net, u)[1], y, rtol=0, atol=1e-12)


# -- refusals that say why ----------------------------------------------------------------------------------------

def test_export_refuses_what_the_frameworks_cannot_express():
    leaky = ns.RateNetwork.random(3, 6, 2, tau=0.1, dt=0.01, rng=0)
    with pytest.raises(ValueError, match=r"RateNetwork\.tau: .*alpha = dt / tau = 1.*tau = dt"):
        interchange.to_torch(leaky)
    with pytest.raises(ValueError, match=r"RateNetwork\.tau"):
        interchange.to_keras(leaky)
    current = ns.RateNetwork.random(3, 6, 2, tau=0.01, dt=0.01, form="current", rng=0)
    with pytest.raises(ValueError, match=r"RateNetwork\.form: .*'current'"):
        interchange.to_torch(current)
    softplus = ns.RateNetwork.random(3, 6, 2, tau=0.01, dt=0.01, activation="softplus", rng=0)
    with pytest.raises(ValueError, match=r"RateNetwork\.activation: torch\.nn\.RNN's nonlinearity.*to_keras"):
        interchange.to_torch(softplus)
    assert interchange.to_keras(softplus)[0]["kernel"].shape == (3, 6)
    with pytest.raises(ValueError, match=r"RateNetwork\.x0: .*zero state"):
        interchange.to_torch(_net("rnn").replace(x0=np.ones(6)))
    with pytest.raises(ValueError, match=r"GatedNetwork\.c0: .*zero state"):
        interchange.to_keras(_net("lstm").replace(c0=np.ones(6)))
    with pytest.raises(TypeError, match=r"to_torch: expected a RateNetwork or GatedNetwork, got dict"):
        interchange.to_torch({})


def test_import_refuses_what_neurosim_cannot_express():
    rec, dense = _keras_dicts("gru")
    with pytest.raises(ValueError, match=r"reset_after=False.*reset_after=True"):
        interchange.from_keras({**rec, "bias": rec["bias"][0]}, dense)
    rec_t, out_t = _torch_dicts("lstm")
    with pytest.raises(ValueError, match=r"unexpected keys \['weight_ih_l1'\].*one-layer"):
        interchange.from_torch({**rec_t, "weight_ih_l1": rec_t["weight_ih_l0"]}, out_t)
    with pytest.raises(ValueError, match=r"missing keys \['weight_hh_l0'\]"):
        interchange.from_torch({k: v for k, v in rec_t.items() if k != "weight_hh_l0"}, out_t)
    with pytest.raises(ValueError, match=r"weight_hh_l0.*G = 1 \(RNN\), 3 \(GRU\) or 4 \(LSTM\).*got 12"):
        interchange.from_torch({**rec_t, "weight_hh_l0": np.zeros((12, 6))}, out_t)
    with pytest.raises(ValueError, match=r"from_torch readout\['weight'\]: expected shape \(n_out, 6\)"):
        interchange.from_torch(rec_t, {**out_t, "weight": np.zeros((2, 5))})
    with pytest.raises(ValueError, match=r"from_torch recurrent\['bias_hh_l0'\]: expected shape \(24,\)"):
        interchange.from_torch({**rec_t, "bias_hh_l0": np.zeros(6)}, out_t)
    with pytest.raises(ValueError, match=r"from_torch activation: .*'sigmoid'"):
        interchange.from_torch(*_torch_dicts("rnn"), activation="sigmoid")
    with pytest.raises(ValueError, match=r"from_keras dense\['kernel'\]: expected shape \(6, n_out\)"):
        interchange.from_keras(*_keras_dicts("lstm")[:1], {"kernel": np.zeros((5, 2))})
    with pytest.raises(TypeError, match=r"from_keras recurrent: expected a dict"):
        interchange.from_keras([np.zeros((3, 24))], dense)


def test_missing_biases_are_zero_and_dtype_is_kept():
    rec, out = _torch_dicts("gru")
    no_bias = {k: v.astype(np.float32) for k, v in rec.items() if k.startswith("weight")}
    net = interchange.from_torch(no_bias, {"weight": out["weight"].astype(np.float32)})
    assert net.dtype == np.float32 and not net.b_ih.any() and not net.b_hh.any() and not net.b_out.any()
    assert interchange.from_torch(no_bias, out, dtype=np.float64).dtype == np.float64
