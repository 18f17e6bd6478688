"""The numpy RNN against references: finite differences and PyTorch autograd."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.tasks import Trials
from gradcheck import numerical_grads

FORMS = ("rate", "current")
ACTS = ("tanh", "relu", "sigmoid", "softplus", "linear")


def _problem(form, act, out_act="identity", loss="mse", seed=0, B=3, T=7, n_in=2, N=6, n_out=3, dt=0.03):
    rng = np.random.default_rng(seed)
    net = ns.RateNetwork.random(n_in, N, n_out, tau=0.1, dt=dt, form=form, activation=act,
                                output_activation=out_act, dale=0.5, p=0.8, rng=seed)
    net = net.replace(b=rng.normal(size=N) * 0.3, b_out=rng.normal(size=n_out) * 0.1, x0=rng.normal(size=N) * 0.3)
    targets = rng.random((B, T, n_out)) if loss == "mse" else np.eye(n_out)[rng.integers(0, n_out, (B, T))]
    mask = (rng.random((B, T, n_out)) < 0.7).astype(float)
    return net, Trials(rng.normal(size=(B, T, n_in)), targets, mask, dt)


def _max_rel_error(a: dict, b: dict) -> float:
    return max(np.max(np.abs(a[k] - b[k])) / max(np.max(np.abs(b[k])), 1e-12) for k in b)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("act", ACTS)
def test_bptt_matches_finite_differences(form, act):
    net, trials = _problem(form, act)
    kw = dict(l2=0.01, l2_rate=0.1)
    _, grads = ns.ann.loss_and_grads(net, trials, **kw)
    assert _max_rel_error(grads, numerical_grads(net, trials, **kw)) <= 1e-6


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("out_act,loss", [("sigmoid", "mse"), ("softmax", "mse"), ("softmax", "ce")])
def test_bptt_output_activations_and_losses(form, out_act, loss):
    net, trials = _problem(form, "tanh", out_act, loss, seed=1)
    _, grads = ns.ann.loss_and_grads(net, trials, loss=loss)
    assert _max_rel_error(grads, numerical_grads(net, trials, loss=loss)) <= 1e-6


def test_dropout_gradient_is_exact_for_a_fixed_mask():
    net, trials = _problem("rate", "tanh", seed=2)
    # the same rng seed draws the same dropout mask, so the loss is a smooth function of the weights
    _, grads = ns.ann.loss_and_grads(net, trials, dropout=0.3, rng=5)
    assert _max_rel_error(grads, numerical_grads(net, trials, dropout=0.3, rng=5)) <= 1e-6


def test_masked_connections_get_zero_gradient():
    net, trials = _problem("rate", "tanh")
    _, grads = ns.ann.loss_and_grads(net, trials)
    assert np.all(grads["W_rec"][net.mask == 0] == 0)
    assert np.any(grads["W_rec"][net.mask == 1] != 0)


def test_unscored_steps_do_not_move_the_weights():
    net, trials = _problem("current", "tanh")
    changed = Trials(trials.inputs, np.where(trials.mask > 0, trials.targets, 1e3), trials.mask, trials.dt)
    l1, g1 = ns.ann.loss_and_grads(net, trials)
    l2, g2 = ns.ann.loss_and_grads(net, changed)
    assert l1 == l2 and all(np.array_equal(g1[k], g2[k]) for k in g1)


def test_alpha_one_rate_form_is_the_elman_rnn():
    rng = np.random.default_rng(3)
    net = ns.RateNetwork.random(2, 5, 1, tau=0.01, dt=0.01, rng=3)
    u = rng.normal(size=(2, 4, 2))
    states, outputs = ns.ann.forward(net, u)
    h = np.zeros((2, 5))
    for t in range(4):  # h_t = tanh(W x_t + U h_{t-1} + b), y_t = V h_t + c
        h = np.tanh(u[:, t] @ net.W_in.T + h @ net.W_rec.T + net.b)
        np.testing.assert_allclose(states[:, t], h, rtol=0, atol=1e-14)
        np.testing.assert_allclose(outputs[:, t], h @ net.W_out.T + net.b_out, rtol=0, atol=1e-14)


def test_matched_noise_enters_as_euler_maruyama():
    net = ns.RateNetwork.random(1, 4, 1, tau=0.1, dt=0.01, activation="linear", g=0.0, sigma=0.3, rng=0)
    u = np.zeros((2, 50, 1))
    noise = ns.ann.noise_increments(net, 2, 50, rng=7)
    assert noise.shape == (2, 50, 4)
    np.testing.assert_allclose(noise.std(), np.sqrt(2 * net.alpha) * 0.3, rtol=0.15)
    states, _ = ns.ann.forward(net, u, noise_increments=noise)
    r = np.zeros((2, 4))
    for t in range(50):  # linear units, no input: r_t = (1 - alpha) r_{t-1} + alpha W_rec r_{t-1} + n_t
        r = (1 - net.alpha) * r + net.alpha * (r @ net.W_rec.T) + noise[:, t]
    np.testing.assert_allclose(states[:, -1], r, atol=1e-14)
    same, _ = ns.ann.forward(net, u, rng=7)
    np.testing.assert_array_equal(same, states)


def test_float32_stays_float32():
    net, trials = _problem("rate", "tanh")
    net32 = net.astype(np.float32)
    states, outputs = ns.ann.forward(net32, trials.inputs)
    _, grads = ns.ann.loss_and_grads(net32, trials)
    assert states.dtype == outputs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


# -- PyTorch autograd as the oracle ----------------------------------------------------------------------------

def _torch_loss(net, trials, loss, torch):
    """The same network written directly in torch, differentiated by autograd."""
    p = {k: torch.tensor(getattr(net, k), dtype=torch.float64, requires_grad=True) for k in net.trainable}
    f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
         "softplus": torch.nn.functional.softplus, "linear": lambda x: x}[net.activation]
    u = torch.tensor(trials.inputs)
    state = torch.tensor(net.x0).expand(trials.n_trials, -1)
    a = net.alpha
    outs = []
    for t in range(trials.n_steps):
        if net.form == "rate":
            state = (1 - a) * state + a * f(u[:, t] @ p["W_in"].T + state @ p["W_rec"].T + p["b"])
            s = state
        else:
            state = (1 - a) * state + a * (f(state) @ p["W_rec"].T + u[:, t] @ p["W_in"].T + p["b"])
            s = f(state)
        z = s @ p["W_out"].T + p["b_out"]
        outs.append({"identity": z, "sigmoid": torch.sigmoid(z), "softmax": torch.softmax(z, -1)}[
            net.output_activation])
    y = torch.stack(outs, 1)
    tgt, m = torch.tensor(trials.targets), torch.tensor(trials.mask)
    if loss == "mse":
        value = ((y - tgt) ** 2 * m).sum() / m.sum()
    else:
        step = m.max(-1, keepdim=True).values
        value = -(step * tgt * torch.log(y)).sum() / step.sum()
    value.backward()
    return y.detach().numpy(), float(value.detach()), {k: v.grad.numpy() * (net.mask if k == "W_rec" else 1)
                                              for k, v in p.items()}


@pytest.mark.torch
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("out_act,loss", [("identity", "mse"), ("softmax", "ce")])
def test_forward_and_gradients_match_torch_autograd(form, act, out_act, loss):
    torch = pytest.importorskip("torch")
    net, trials = _problem(form, act, out_act, loss, B=4, T=30, N=16)
    y_t, loss_t, grads_t = _torch_loss(net, trials, loss, torch)
    _, outputs = ns.ann.forward(net, trials.inputs)
    value, grads = ns.ann.loss_and_grads(net, trials, loss=loss)
    np.testing.assert_allclose(outputs, y_t, rtol=0, atol=1e-10)
    assert abs(value - loss_t) <= 1e-10
    for k in grads:
        np.testing.assert_allclose(grads[k], grads_t[k], rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.torch
def test_alpha_one_matches_torch_nn_rnn():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    net = ns.RateNetwork.random(3, 8, 2, tau=0.01, dt=0.01, rng=4).replace(b=rng.normal(size=8) * 0.1)
    u = rng.normal(size=(5, 20, 3))
    rnn = torch.nn.RNN(3, 8, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(net.W_in))
        rnn.weight_hh_l0.copy_(torch.tensor(net.W_rec))
        rnn.bias_ih_l0.copy_(torch.tensor(net.b))
        rnn.bias_hh_l0.zero_()
    h, _ = rnn(torch.tensor(u))
    states, _ = ns.ann.forward(net, u)
    np.testing.assert_allclose(states, h.detach().numpy(), rtol=0, atol=1e-12)
