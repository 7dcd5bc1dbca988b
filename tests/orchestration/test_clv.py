"""BG/NBD, MBG/NBD + Gamma-Gamma: parameters recovered from simulated data, the holdout
backtest on simulated customers, MBG/NBD's view of one-time buyers, degenerate inputs."""

import numpy as np
import pytest

from warehouse import clv

TRUE_BGNBD = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}  # Fader et al. (2005), CDNOW
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
TOLERANCE = 0.15  # relative, on every parameter (documented in the CLV model docs)


def simulate(n: int, seed: int = 1, holdout: float = 0.0):
    """Customers from the BG/NBD and Gamma-Gamma generative stories, observed for 39-78
    weeks (T), then ``holdout`` weeks more: (x, t_x, T, m, purchases in the holdout)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], n)
    p_drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["v"], n)
    T = rng.uniform(39, 78, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    m = np.zeros(n)
    later = np.zeros(n)
    for i in range(n):
        t, spend = 0.0, []
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i] + holdout:
                break
            if t > T[i]:
                later[i] += 1
            else:
                x[i] += 1
                t_x[i] = t
                spend.append(rng.gamma(TRUE_GG["p"], 1 / nu[i]))
            if rng.random() < p_drop[i]:
                break
        m[i] = np.mean(spend) if spend else 0.0
    return x, t_x, T, m, later


def test_parameters_are_recovered_from_simulated_customers():
    x, t_x, T, m, _ = simulate(20_000)
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
    x, t_x, T, m, _ = simulate(5_000, seed=2)
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


def test_backtest_predicts_simulated_customers_within_five_percent():
    x, t_x, T, _, holdout = simulate(20_000, seed=3, holdout=39)
    rows, fits = clv.backtest(x, t_x, T, holdout, holdout_length=39)
    actual = int(holdout.sum())
    predicted = sum(r.predicted_purchases for r in rows if r.model == clv.BG_NBD)
    print(f"simulated holdout: actual {actual}, BG/NBD predicted {predicted:.0f}")
    assert sum(r.actual_purchases for r in rows if r.model == clv.BG_NBD) == actual
    assert predicted == pytest.approx(actual, rel=0.05)
    # per calibration repeat count too, where there are enough purchases to judge
    judged = [r for r in rows if r.model == clv.BG_NBD and r.actual_purchases >= 300]
    assert len(judged) >= 3
    for row in judged:
        assert row.predicted_purchases == pytest.approx(row.actual_purchases, rel=0.15)
    # the data are BG/NBD's: the backtest picks it, or MBG/NBD only when it does as well
    errors = {m: clv.backtest_error(rows, m) for m in clv.FREQUENCY_MODELS}
    assert errors[clv.choose_model(rows)] == min(errors.values())


def test_mbg_nbd_lets_one_time_buyers_drop_out():
    x, t_x, T, _, _ = simulate(5_000, seed=4)
    mbg = clv.fit_bgnbd(x, t_x, T, clv.MBG_NBD)
    once = np.zeros(3)
    alive = clv.probability_alive(mbg, once, once, np.array([1.0, 26.0, 78.0]))
    assert (alive < 1).all() and alive[0] > alive[1] > alive[2]  # silence lowers it
    bg = clv.fit_bgnbd(x, t_x, T)
    assert (clv.probability_alive(bg, once, once, np.array([1.0, 26.0, 78.0])) == 1).all()
    assert (clv.expected_purchases(mbg, 52, x, t_x, T) >= 0).all()


@pytest.mark.parametrize(
    ("x", "reason"),
    [
        (np.zeros(100), "repeat buyers"),
        (np.array([3.0]), "customers"),
    ],
)
def test_degenerate_inputs_are_refused_with_a_reason(x, reason):
    assert reason in clv.check_fit_possible(x)


def test_repeat_buyers_without_spend_are_refused_with_a_reason():
    # every repeat buyer's lines rejected or refunded: frequency fits, spend cannot
    x = np.array([0.0] * 10 + [1.0, 2.0, 3.0] * 5)
    assert clv.check_fit_possible(x) is None
    reason = clv.check_fit_possible(x, monetary=np.zeros(len(x)))
    assert "positive spend" in reason
    one_spender = np.where(np.arange(len(x)) == 12, 10.0, 0.0)
    assert "only 1 repeat buyers" in clv.check_fit_possible(x, monetary=one_spender)


def test_unusable_fitted_parameters_are_named():
    assert clv.check_fitted({"bg_nbd.r": 0.2, "gamma_gamma.p": 3.0}) is None
    reason = clv.check_fitted({"bg_nbd.r": float("nan"), "gamma_gamma.q": 0.0, "bg_nbd.a": 1})
    assert "bg_nbd.r" in reason and "gamma_gamma.q" in reason and "bg_nbd.a" not in reason
