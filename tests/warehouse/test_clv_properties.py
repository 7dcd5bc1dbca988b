"""Property-based tests (Hypothesis) of the CLV fitting code on random small and
degenerate customer summaries: whatever the data, the fit either gives usable parameters
or says why not, and never raises; the backtest never predicts a non-finite number.
A raise here would fail the dbt model and with it the whole run."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse import clv

# a few customers to a hundred; repeat counts, ages and recencies as the marts hold them
# (t_x = 0 without repeats, 0 <= t_x <= T), spend per repeat purchase zero or positive
customers = st.integers(min_value=0, max_value=100)


@st.composite
def summaries(draw):
    n = draw(customers)
    constant = draw(st.booleans())  # every customer alike: a degenerate sample
    x = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float)
    T = np.array(
        draw(st.lists(st.floats(0.01, 150, allow_nan=False), min_size=n, max_size=n)), dtype=float
    )
    share = np.array(
        draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n)), dtype=float
    )
    spend = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.01, 1.0, 9.99, 250.0, 1e6]), min_size=n, max_size=n)),
        dtype=float,
    )
    if constant and n:
        x, T, share, spend = (np.full(n, v[0]) for v in (x, T, share, spend))
    t_x = np.where(x > 0, T * share, 0.0)
    monetary = np.where(x > 0, spend, 0.0)
    return x, t_x, T, monetary


def _usable(value: float) -> bool:
    return bool(np.isfinite(value) and value > 0)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples in every CI run; a failure reproduces
    suppress_health_check=[HealthCheck.too_slow],
)
@given(summaries(), st.sampled_from(clv.FREQUENCY_MODELS))
def test_the_fit_gives_usable_parameters_or_a_reason(summary, chosen):
    x, t_x, T, monetary = summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow inside the optimiser
        fitted = clv.fit_models(x, t_x, T, monetary, chosen)
    if isinstance(fitted, str):
        assert fitted  # a reason a person can read
        return
    for params in fitted.frequency.values():
        assert all(_usable(getattr(params, name)) for name in clv.BGNBD_PARAMS)
    assert all(_usable(getattr(fitted.spend, name)) for name in clv.GG_PARAMS)
    value = clv.predicted_clv(fitted.frequency[chosen], fitted.spend, x, t_x, T, monetary)
    assert np.isfinite(value).all() and (value >= 0).all()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(summaries(), st.lists(st.integers(0, 5), min_size=100, max_size=100))
def test_the_backtest_predicts_finite_purchases_or_nothing(summary, later):
    x, t_x, T, _ = summary
    holdout = np.array(later[: len(x)], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows, fits = clv.backtest(x, t_x, T, holdout, holdout_length=26.0)
    assert sum(r.customers for r in rows) == len(x) * len(clv.FREQUENCY_MODELS)
    for row in rows:
        assert row.predicted_purchases is None or (
            np.isfinite(row.predicted_purchases) and row.predicted_purchases >= 0
        )
    for fit in fits.values():
        assert isinstance(fit, str) or all(_usable(getattr(fit, name)) for name in clv.BGNBD_PARAMS)
