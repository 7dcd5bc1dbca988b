"""Buy-till-you-die customer lifetime value: BG/NBD or MBG/NBD for purchase frequency and
dropout, Gamma-Gamma for spend per purchase, fitted by maximum likelihood with scipy, and
a holdout backtest that compares their predictions with what customers then bought.

Why not a library: ``lifetimes`` (last release 2020) and ``btyd`` (a 2022 beta) are
unmaintained and break on numpy 2 / pandas 3; ``pymc-marketing`` fits by MCMC through
PyTensor, far beyond our time budget at a million customers. The likelihoods below are
the published closed forms (Fader, Hardie & Lee 2005, "Counting your customers the easy
way"; Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison of models
for customer base analysis" for MBG/NBD; Fader, Hardie & Lee 2005, "RFM and CLV"), the
same ones lifetimes implements, vectorised over customers so a fit over 1M customers
takes seconds.

Inputs per customer, with the literature's time conventions (time unit: weeks by
default; the CDNOW sample then reproduces the paper's parameters, tests/test_clv_cdnow.py):
  frequency  x   = repeat purchase days (purchase days - 1; same-day orders merge),
  recency    t_x = days from the first to the last purchase day / 7,
  T              = days from the first purchase day to the calibration end (the as-of
                   date) / 7,
  monetary   m   = mean value of the repeat purchase days (Gamma-Gamma convention).

BG/NBD lets a customer drop out only after a repeat purchase, so everyone who bought once
is certainly alive (P(alive) = 1, however long ago). MBG/NBD lets a customer drop out
after any purchase, the first included, which suits shops where most customers buy once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

WEEKS_PER_MONTH = 365.25 / 7 / 12


class ClvFitWarning(UserWarning):
    """The data cannot support a fit (no repeat buyers, too few customers ...)."""


BG_NBD = "bg_nbd"
MBG_NBD = "mbg_nbd"
FREQUENCY_MODELS = (BG_NBD, MBG_NBD)
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "v")


@dataclass(frozen=True)
class BgNbdParams:
    """Parameters of BG/NBD or, with ``model = "mbg_nbd"``, MBG/NBD (same four)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    model: str = BG_NBD


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float
    log_likelihood: float


def _bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def _mbgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return a1 + a2 + a3 + np.logaddexp(0.0, a4)


LOG_LIKELIHOODS = {BG_NBD: _bgnbd_log_likelihood, MBG_NBD: _mbgnbd_log_likelihood}


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct input rows and how often each occurs: customers with the same history add
    the same log-likelihood, so a fit over 1M customers works on far fewer rows."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, model: str = BG_NBD) -> BgNbdParams:
    """Maximum-likelihood BG/NBD (or MBG/NBD) parameters (r, alpha, a, b)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) < 2 or not (x > 0).any():
        raise ValueError(f"{model} needs at least two customers and at least one repeat purchase")
    log_likelihood_of = LOG_LIKELIHOODS[model]
    (ux, ut_x, uT), weights = _compress(x, t_x, T)
    scale = max(T.max(), 1.0)  # fit on a unit time scale for conditioning, then rescale alpha

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        return -(weights * log_likelihood_of(params, ux, ut_x / scale, uT / scale)).sum()

    r, alpha, a, b = np.exp(_minimise(objective, 4))
    params = np.array([r, alpha * scale, a, b])
    log_likelihood = float((weights * log_likelihood_of(params, ux, ut_x, uT)).sum())
    return BgNbdParams(
        r=r, alpha=alpha * scale, a=a, b=b, log_likelihood=log_likelihood, model=model
    )


def _minimise(objective, n_params: int) -> np.ndarray:
    """L-BFGS-B on log parameters from 1.0, polished by Nelder-Mead only if it did not converge."""
    result = minimize(objective, x0=np.zeros(n_params), method="L-BFGS-B")
    if not result.success:
        result = minimize(
            objective,
            x0=result.x,
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-7},
        )
    return result.x


def probability_alive(
    params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(still active at T | x, t_x, T). Under BG/NBD 1 for customers who never repeated;
    under MBG/NBD it falls with the time since the last purchase for them too."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if params.model == MBG_NBD:
            log_ratio = (
                np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
            return 1.0 / (1.0 + np.exp(log_ratio))
        log_ratio = (
            np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        odds = np.where(x > 0, np.exp(log_ratio), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(
    params: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next ``t`` time units given each customer's history."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    # MBG/NBD's terms are BG/NBD's with the dropout opportunity at the first purchase too
    shift = 1.0 if params.model == MBG_NBD else 0.0
    hyp = hyp2f1(r + x, b + x + shift, a + b + x - 1 + shift, z)
    numerator = (
        (a + b + x - 1 + shift) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    )
    return numerator * probability_alive(params, x, t_x, T)


def _gg_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, v = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters over repeat buyers with positive spend."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 2:
        raise ValueError("Gamma-Gamma needs at least two repeat buyers with positive spend")
    (ux, um), weights = _compress(x, m)
    scale = float(np.median(m))  # fit on a unit money scale, then rescale v

    def objective(log_params: np.ndarray) -> float:
        return -(weights * _gg_log_likelihood(np.exp(log_params), ux, um / scale)).sum()

    p, q, v = np.exp(_minimise(objective, 3))
    params = np.array([p, q, v * scale])
    log_likelihood = float((weights * _gg_log_likelihood(params, ux, um)).sum())
    return GammaGammaParams(p=p, q=q, v=v * scale, log_likelihood=log_likelihood)


def expected_average_value(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m]; the population mean for customers without repeats."""
    x, m = np.asarray(x, dtype=float), np.nan_to_num(np.asarray(m, dtype=float))
    p, q, v = params.p, params.q, params.v
    return (p * (v + x * m)) / (p * x + q - 1)


def predicted_clv(
    bgnbd: BgNbdParams,
    gg: GammaGammaParams,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    m: np.ndarray,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit_weeks: float = 1.0,
) -> np.ndarray:
    """Discounted expected spend over the horizon: month by month, expected purchases in
    that month x expected spend per purchase / (1 + d)^month (as lifetimes does)."""
    value = expected_average_value(gg, x, m)
    total = np.zeros(len(np.asarray(x)))
    previous = np.zeros_like(total)
    for month in range(1, horizon_months + 1):
        cumulative = expected_purchases(bgnbd, month * WEEKS_PER_MONTH / time_unit_weeks, x, t_x, T)
        total += (cumulative - previous) * value / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return total


def check_fit_possible(
    x: np.ndarray,
    min_customers: int = 20,
    min_repeat_buyers: int = 10,
    monetary: np.ndarray | None = None,
) -> str | None:
    """Why the data cannot support a fit, or None. Callers warn and write null predictions.

    With ``monetary`` (spend per repeat purchase) the Gamma-Gamma spend model is checked
    too: it needs two repeat buyers with positive spend (not so when every line of their
    orders was rejected or refunded)."""
    x = np.asarray(x, dtype=float)
    if len(x) < min_customers:
        return f"only {len(x)} customers with purchases (need {min_customers})"
    repeaters = int((x > 0).sum())
    if repeaters < min_repeat_buyers:
        return f"only {repeaters} repeat buyers (need {min_repeat_buyers})"
    if monetary is not None:
        spending = int(((x > 0) & (np.nan_to_num(np.asarray(monetary, dtype=float)) > 0)).sum())
        if spending < 2:
            return f"only {spending} repeat buyers with positive spend (the spend model needs 2)"
    return None


def check_fitted(values: dict[str, float]) -> str | None:
    """Why fitted parameters cannot be used (the optimiser gave up with a non-finite or
    non-positive value), or None."""
    bad = sorted(name for name, value in values.items() if not (np.isfinite(value) and value > 0))
    return f"the fit gave unusable parameters ({', '.join(bad)})" if bad else None


@dataclass(frozen=True)
class FittedModels:
    """Every frequency model and the spend model, fitted on one sample."""

    frequency: dict[str, BgNbdParams]
    spend: GammaGammaParams


def _frequency_values(params: BgNbdParams) -> dict[str, float]:
    return {f"{params.model}.{name}": float(getattr(params, name)) for name in BGNBD_PARAMS}


def _plausible(predicted: np.ndarray) -> bool:
    """Predictions a person can use: finite and not negative (a degenerate sample can
    drive the hypergeometric terms to either)."""
    return bool(np.isfinite(predicted).all() and (predicted >= 0).all())


def fit_frequency_model(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, model: str
) -> BgNbdParams | str:
    """One frequency model fitted, or why it cannot be used (the optimiser failed or
    gave a non-finite or non-positive parameter)."""
    try:
        params = fit_bgnbd(x, t_x, T, model)
    except (ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        return f"the {model} fit failed ({exc})"
    return check_fitted(_frequency_values(params)) or params


def fit_models(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    monetary: np.ndarray,
    chosen: str = BG_NBD,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    time_unit_weeks: float = 1.0,
) -> FittedModels | str:
    """The frequency models and the Gamma-Gamma spend model fitted on the customer
    summaries, or why the data cannot support the ``chosen`` frequency model with the
    spend model: too few customers, repeat buyers or spenders (``check_fit_possible``),
    an optimiser that failed or gave unusable parameters (``check_fitted``), or
    predictions over the mart's horizon that come out non-finite or negative. Another
    frequency model that cannot be fitted is left out (the chosen one predicts). Never
    raises on data: the run goes on with null predictions and the reason."""
    reason = check_fit_possible(x, monetary=monetary)
    if reason:
        return reason
    fits = {model: fit_frequency_model(x, t_x, T, model) for model in FREQUENCY_MODELS}
    if isinstance(fits[chosen], str):
        return fits[chosen]
    try:
        spend = fit_gamma_gamma(x, monetary)
    except (ValueError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        return f"the gamma_gamma fit failed ({exc})"
    reason = check_fitted({f"gamma_gamma.{n}": float(getattr(spend, n)) for n in GG_PARAMS})
    if reason:
        return reason
    # finite parameters can still give NaN on a degenerate sample (every customer alike):
    # predict once for each distinct history, as the CLV mart will for every customer
    (ux, ut_x, uT, um), _ = _compress(x, t_x, T, np.nan_to_num(np.asarray(monetary, float)))
    predicted = predicted_clv(
        fits[chosen],
        spend,
        ux,
        ut_x,
        uT,
        um,
        horizon_months,
        monthly_discount_rate,
        time_unit_weeks,
    )
    if not _plausible(predicted):
        return f"the {chosen} fit predicts non-finite or negative values for some customers"
    return FittedModels({m: f for m, f in fits.items() if not isinstance(f, str)}, spend)


def warn_not_fitted(reason: str) -> None:
    warnings.warn(
        f"CLV model not fitted: {reason}; predictions are null", ClvFitWarning, stacklevel=2
    )


# --- the holdout backtest ---------------------------------------------------------------

FREQUENCY_BUCKETS = ("0", "1", "2", "3", "4", "5", "6", "7+")


def frequency_bucket(x: np.ndarray) -> np.ndarray:
    """Calibration repeat-purchase count as its backtest row: 0 ... 6, then 7+."""
    return np.array(FREQUENCY_BUCKETS)[np.minimum(np.asarray(x, dtype=int), 7)]


@dataclass(frozen=True)
class BacktestRow:
    model: str
    calibration_frequency: str
    customers: int
    actual_purchases: int
    predicted_purchases: float | None


def backtest(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    holdout_purchases: np.ndarray,
    holdout_length: float,
    models: tuple[str, ...] = FREQUENCY_MODELS,
) -> tuple[list[BacktestRow], dict[str, BgNbdParams | str]]:
    """Fit each model on the calibration histories (x, t_x, T up to the calibration end),
    predict each customer's purchases over the holdout (``holdout_length`` time units), and
    compare with what they bought (``holdout_purchases``: purchase days after the
    calibration end), per calibration repeat-purchase count. Returns the rows and, per
    model, its parameters or why it was not fitted (predictions are then None)."""
    x, t_x, T, actual = (np.asarray(v, dtype=float) for v in (x, t_x, T, holdout_purchases))
    buckets = frequency_bucket(x)
    fits: dict[str, BgNbdParams | str] = {}
    rows = []
    reason = check_fit_possible(x)
    for model in models:
        predicted = None
        fits[model] = reason or fit_frequency_model(x, t_x, T, model)
        if not isinstance(fits[model], str):
            predicted = expected_purchases(fits[model], holdout_length, x, t_x, T)
            if not _plausible(predicted):
                fits[model] = f"the {model} fit predicts non-finite or negative purchases"
                predicted = None
        for bucket in FREQUENCY_BUCKETS:
            members = buckets == bucket
            if not members.any():
                continue
            rows.append(
                BacktestRow(
                    model=model,
                    calibration_frequency=bucket,
                    customers=int(members.sum()),
                    actual_purchases=int(actual[members].sum()),
                    predicted_purchases=None
                    if predicted is None
                    else float(predicted[members].sum()),
                )
            )
    return rows, fits


def backtest_error(rows: list[BacktestRow], model: str) -> float | None:
    """Sum over the calibration-frequency rows of |predicted - actual|, as a share of the
    actual total: it penalises a wrong total and a wrong split between light and heavy
    buyers alike. None when the model was not fitted or nobody bought in the holdout."""
    mine = [r for r in rows if r.model == model]
    actual = sum(r.actual_purchases for r in mine)
    if not mine or actual == 0 or any(r.predicted_purchases is None for r in mine):
        return None
    return sum(abs(r.predicted_purchases - r.actual_purchases) for r in mine) / actual


def choose_model(rows: list[BacktestRow], default: str = BG_NBD) -> str:
    """The frequency model with the smallest backtest error; ``default`` without one."""
    errors = {m: backtest_error(rows, m) for m in FREQUENCY_MODELS}
    scored = {m: e for m, e in errors.items() if e is not None}
    return min(scored, key=lambda m: (scored[m], m != default)) if scored else default
