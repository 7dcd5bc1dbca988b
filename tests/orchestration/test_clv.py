"""BG/NBD + Gamma-Gamma: parameters recovered from simulated data, derivation of the model
inputs (same-day merge), and degenerate inputs."""

import numpy as np
import pytest

from warehouse import clv

TRUE_BGNBD = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}  # Fader et al. (2005), CDNOW
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
TOLERANCE = 0.15  # relative, on every parameter (documented in the CLV model docs)


def simulate(n: int, seed: int = 1):
    """Customers from the BG/NBD and Gamma-Gamma generative stories, observed for 39-78 weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], n)
    p_drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["v"], n)
    T = rng.uniform(39, 78, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    m = np.zeros(n)
    for i in range(n):
        t, spend = 0.0, []
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            spend.append(rng.gamma(TRUE_GG["p"], 1 / nu[i]))
            if rng.random() < p_drop[i]:
                break
        m[i] = np.mean(spend) if spend else 0.0
    return x, t_x, T, m


def test_parameters_are_recovered_from_simulated_customers():
    x, t_x, T, m = simulate(20_000)
    bgnbd = clv.fit_bgnbd(x, t_x, T)
    gg = clv.fit_gamma_gamma(x, m)
    fitted = {
        "r": bgnbd.r,
        "alpha": bgnbd.alpha,
        "a": bgnbd.a,
        "b": bgnbd.b,
        "p": gg.p,
        "q": gg.q,
        "v": gg.v,
    }
    print({k: round(v, 3) for k, v in fitted.items()})
    for name, true in {**TRUE_BGNBD, **TRUE_GG}.items():
        assert fitted[name] == pytest.approx(true, rel=TOLERANCE), name


def test_predictions_are_sane():
    x, t_x, T, m = simulate(5_000, seed=2)
    bgnbd = clv.fit_bgnbd(x, t_x, T)
    gg = clv.fit_gamma_gamma(x, m)
    alive = clv.probability_alive(bgnbd, x, t_x, T)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (alive[x == 0] == 1).all()  # BG/NBD: no repeat, no chance to have dropped out
    value = clv.predicted_clv(bgnbd, gg, x, t_x, T, m, horizon_months=12)
    assert (value >= 0).all()
    # a customer who bought often and recently is worth more than one who stopped long ago
    recent = clv.expected_purchases(bgnbd, 52, np.array([10.0]), np.array([50.0]), np.array([52.0]))
    stale = clv.expected_purchases(bgnbd, 52, np.array([10.0]), np.array([5.0]), np.array([52.0]))
    assert recent[0] > stale[0]


@pytest.mark.parametrize(
    ("x", "reason"),
    [
        (np.zeros(100), "repeat buyers"),
        (np.array([3.0]), "customers"),
    ],
)
def test_degenerate_inputs_are_refused_with_a_reason(x, reason):
    assert reason in clv.check_fit_possible(x)
