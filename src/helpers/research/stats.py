"""Statistics of the research layer: intervals, pooling, homogeneity, funnels, shrinkage, trends.

Every function is pure (no I/O, no global state) and vectorised with numpy,
pandas and scipy.  Conventions shared by all of them:

* A rate needs a denominator.  A unit whose denominator is 0 has a *missing*
  rate (NaN), never a rate of 0; pooled statistics leave such units out and
  say how many they left out.
* NaN inputs propagate to NaN outputs in the element-wise functions
  (:func:`wilson`, :func:`poisson_rate_ci`, :func:`rate_table`); the
  functions that summarise many units drop them and report the number dropped.
* Impossible inputs (a negative count, a numerator above its denominator, a
  confidence level outside (0, 1)) raise :class:`ValueError` with a message
  naming the argument.
* Nothing divides by zero silently: where a quantity is undefined (a dispersion
  with a pooled rate of exactly 0 or 1, a trend with one year) the result holds
  NaN and a ``note`` says why.

``docs/statistics.md`` lists the methods and their references.

>>> lo, hi = wilson(81, 263)
>>> round(lo, 4), round(hi, 4)
(0.2553, 0.3662)
>>> gini([0, 0, 0, 1])
0.75
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

__all__ = [
    "wilson",
    "rate_table",
    "poisson_rate_ci",
    "pooled",
    "homogeneity",
    "Homogeneity",
    "cramers_v",
    "funnel_limits",
    "funnel_overdispersion",
    "funnel_od_limits",
    "funnel_classify",
    "FunnelDispersion",
    "eb_shrink",
    "EBFit",
    "lorenz",
    "gini",
    "trend_test",
    "count_trend",
    "z_for_level",
]

#: Years below which a trend is reported with a warning note.
MIN_TREND_YEARS = 4

#: In :func:`eb_shrink`, a fitted prior size α + β above this multiple of the
#: largest denominator leaves every unit within 0.01 % of complete pooling (the
#: likelihood is flat there and the fitted size is not identified): it is
#: reported as "no overdispersion".
SIZE_LIMIT = 1e4


# --------------------------------------------------------------------------- helpers


def z_for_level(level: float) -> float:
    """Two-sided normal quantile for a confidence level: ``Φ⁻¹(1 − (1 − level)/2)``.

    >>> round(z_for_level(0.95), 4), round(z_for_level(0.998), 4)
    (1.96, 3.0902)
    """
    _check_level(level)
    return float(stats.norm.ppf(0.5 + level / 2.0))


def _check_level(level: float, name: str = "level") -> None:
    if not (isinstance(level, (int, float, np.floating)) and 0.0 < float(level) < 1.0):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {level!r}")


def _float_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float array (pandas nullable NA becomes NaN)."""
    if isinstance(x, (pd.Series, pd.Index)):
        x = x.astype("float64").to_numpy()
    try:
        arr = np.asarray(x, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    """A 0-d array becomes a Python float; anything else stays an array."""
    return float(arr) if np.ndim(arr) == 0 else arr


def _check_counts(k: np.ndarray, n: np.ndarray, kname: str = "k", nname: str = "n") -> None:
    """Raise when, ignoring NaN, a count is negative or a numerator exceeds its denominator."""
    with np.errstate(invalid="ignore"):
        if np.any(n < 0):
            raise ValueError(f"{nname} (denominator) must be >= 0; got a negative value")
        if np.any(k < 0):
            raise ValueError(f"{kname} (numerator) must be >= 0; got a negative value")
        if np.any(k > n):
            bad = np.argwhere(np.broadcast_to(k > n, np.broadcast_shapes(k.shape, n.shape)))[0]
            raise ValueError(
                f"{kname} must not exceed {nname}; first offending position {tuple(int(i) for i in bad)}"
            )


def _clean_units(k: Any, n: Any) -> tuple[np.ndarray, np.ndarray, int, int]:
    """1-d numerators and denominators of the usable units.

    Returns ``(k, n, n_missing, n_zero)``: units with NaN in ``k`` or ``n`` and
    units with ``n == 0`` are removed and counted separately.
    """
    k = np.atleast_1d(_float_array(k, "k")).ravel()
    n = np.atleast_1d(_float_array(n, "n")).ravel()
    if k.shape != n.shape:
        raise ValueError(f"k and n must have the same length, got {k.size} and {n.size}")
    _check_counts(k, n)
    missing = np.isnan(k) | np.isnan(n)
    zero = ~missing & (n == 0)
    keep = ~missing & ~zero
    return k[keep], n[keep], int(missing.sum()), int(zero.sum())


# --------------------------------------------------------------------------- 1. Wilson


def wilson(k: Any, n: Any, level: float = 0.95) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n`` (vectorised, closed form).

    With ``p̂ = k/n`` and ``z = Φ⁻¹(1 − (1 − level)/2)``::

        centre = (k + z²/2) / (n + z²)
        half   = z / (n + z²) · sqrt(k (n − k) / n + z²/4)
        (lo, hi) = (centre − half, centre + half)

    with ``lo = 0`` exactly when ``k = 0`` and ``hi = 1`` exactly when
    ``k = n`` (as :meth:`scipy.stats.binomtest(k, n).proportion_ci
    <scipy.stats._result_classes.BinomTestResult.proportion_ci>` with
    ``method="wilson"`` does).  ``n == 0`` or NaN gives ``(nan, nan)``: a
    rate without a denominator is missing.  ``k`` and ``n`` may be
    non-integers (used for effective sample sizes in :func:`pooled`).

    Reference: E. B. Wilson (1927), JASA 22:209–212; Brown, Cai & DasGupta
    (2001), Statistical Science 16:101–133; Newcombe (1998), Stat Med
    17:857–872 (worked examples, e.g. 81/263 → 0.2553 to 0.3662).

    >>> [round(x, 4) for x in wilson(0, 20)]
    [0.0, 0.1611]
    >>> wilson(0, 0)
    (nan, nan)
    """
    _check_level(level)
    k = _float_array(k, "k")
    n = _float_array(n, "n")
    _check_counts(k, n)
    z = z_for_level(level)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = n > 0  # NaN compares False
        n_safe = np.where(valid, n, 1.0)
        k_safe = np.where(valid, k, 0.0)
        denom = n_safe + z2
        centre = (k_safe + z2 / 2.0) / denom
        half = z / denom * np.sqrt(np.maximum(k_safe * (n_safe - k_safe) / n_safe, 0.0) + z2 / 4.0)
        lo = np.where(k_safe == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(k_safe == n_safe, 1.0, np.clip(centre + half, 0.0, 1.0))
        lo = np.where(valid, lo, np.nan)
        hi = np.where(valid, hi, np.nan)
    return _out(lo), _out(hi)


def rate_table(k: Any, n: Any, level: float = 0.95) -> pd.DataFrame:
    """A rate per unit with its numerator, denominator and Wilson interval.

    Columns: ``numerator, denominator, estimate, ci_low, ci_high``;
    ``estimate = k / n`` and NaN when ``n == 0`` (missing, not 0).  The index
    of ``k`` is kept when it is a Series.

    >>> rate_table([3, 0], [10, 0])[["numerator", "denominator", "estimate"]]
       numerator  denominator  estimate
    0        3.0         10.0       0.3
    1        0.0          0.0       NaN
    """
    index = k.index if isinstance(k, pd.Series) else (n.index if isinstance(n, pd.Series) else None)
    kk = np.atleast_1d(_float_array(k, "k")).ravel()
    nn = np.atleast_1d(_float_array(n, "n")).ravel()
    if kk.shape != nn.shape:
        raise ValueError(f"k and n must have the same length, got {kk.size} and {nn.size}")
    lo, hi = wilson(kk, nn, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(nn > 0, kk / np.where(nn > 0, nn, 1.0), np.nan)
    return pd.DataFrame(
        {"numerator": kk, "denominator": nn, "estimate": est, "ci_low": lo, "ci_high": hi},
        index=index,
    )


# --------------------------------------------------------------------------- 2. Poisson


def poisson_rate_ci(
    count: Any, exposure: Any, per: float = 100, level: float = 0.95
) -> tuple[float | np.ndarray, float | np.ndarray, float | np.ndarray]:
    """Rate of a count per ``per`` units of exposure with the exact (Garwood) interval.

    With ``a = 1 − level`` and ``χ²_q(ν)`` the ``q`` quantile of chi-square with
    ``ν`` degrees of freedom::

        estimate = per · x / E
        lo = per · χ²_{a/2}(2x) / (2E)        (0 when x = 0)
        hi = per · χ²_{1−a/2}(2x + 2) / (2E)

    Used for "complaints (review + litigation) per 100 handled requests".
    Returns ``(estimate, lo, hi)``; exposure 0 or NaN gives NaN for all three.

    Reference: F. Garwood (1936), Biometrika 28:437–442; Ulm (1990), Am J
    Epidemiol 131:373–375 (the chi-square form).

    >>> [round(v, 3) for v in poisson_rate_ci(10, 100)]
    [10.0, 4.795, 18.39]
    """
    _check_level(level)
    if not (isinstance(per, (int, float, np.integer, np.floating)) and per > 0):
        raise ValueError(f"per must be a positive number, got {per!r}")
    x = _float_array(count, "count")
    e = _float_array(exposure, "exposure")
    with np.errstate(invalid="ignore"):
        if np.any(x < 0):
            raise ValueError("count must be >= 0; got a negative value")
        if np.any(e < 0):
            raise ValueError("exposure must be >= 0; got a negative value")
    a = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = (e > 0) & ~np.isnan(x)
        e_safe = np.where(valid, e, 1.0)
        x_safe = np.where(valid, x, 0.0)
        est = per * x_safe / e_safe
        lo = np.where(x_safe > 0, stats.chi2.ppf(a / 2.0, 2.0 * np.where(x_safe > 0, x_safe, 1.0)) / 2.0, 0.0)
        hi = stats.chi2.ppf(1.0 - a / 2.0, 2.0 * x_safe + 2.0) / 2.0
        est = np.where(valid, est, np.nan)
        lo = np.where(valid, per * lo / e_safe, np.nan)
        hi = np.where(valid, per * hi / e_safe, np.nan)
    return _out(est), _out(lo), _out(hi)


# --------------------------------------------------------------------------- 3. pooled


def pooled(k: Any, n: Any, level: float = 0.95) -> dict[str, Any]:
    """Pooled rate ``Σk / Σn`` across units, its Wilson interval and an overdispersed interval.

    Units with NaN or ``n == 0`` are left out (``m_excluded``).  With ``m``
    units, ``p = Σk/Σn``::

        X² = Σ (k_i − n_i p)² / (n_i p (1 − p))        (Pearson)
        φ  = X² / (m − 1)

    The overdispersed (quasi-binomial) interval inflates the binomial variance
    by ``max(φ, 1)``: it is the Wilson interval computed with the effective
    counts ``Σk / max(φ,1)`` out of ``Σn / max(φ,1)``, whose half-width is
    ``sqrt(max(φ,1))`` times the plain one to first order and which stays in
    [0, 1].  ``mean_of_rates`` is the unweighted mean of the per-unit rates
    ``k_i / n_i``, to show "pooled vs per-report".

    φ is NaN (and so is the overdispersed interval) when ``m < 2`` or ``p`` is
    exactly 0 or 1; ``note`` says which.

    Keys: ``k, n, m_units, m_excluded, estimate, ci_low, ci_high, phi,
    ci_low_overdispersed, ci_high_overdispersed, mean_of_rates, note``.

    Reference: McCullagh & Nelder (1989), Generalized Linear Models, 2nd ed.,
    §4.5 (quasi-likelihood dispersion); Wilson (1927).

    >>> r = pooled([2, 5, 8], [10, 10, 10])
    >>> r["estimate"], round(r["phi"], 3)
    (0.5, 3.6)
    """
    _check_level(level)
    kk, nn, n_missing, n_zero = _clean_units(k, n)
    m = int(kk.size)
    K, N = float(kk.sum()), float(nn.sum())
    notes = []
    if n_missing or n_zero:
        notes.append(f"{n_missing + n_zero} unit(s) left out ({n_missing} missing, {n_zero} with n = 0)")
    out: dict[str, Any] = {"k": K, "n": N, "m_units": m, "m_excluded": n_missing + n_zero}
    if m == 0:
        notes.append("no unit with a denominator: the pooled rate is missing")
        out.update(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, phi=np.nan,
                   ci_low_overdispersed=np.nan, ci_high_overdispersed=np.nan, mean_of_rates=np.nan)
        out["note"] = "; ".join(notes)
        return out
    p = K / N
    lo, hi = wilson(K, N, level)
    phi = np.nan
    if m < 2:
        notes.append("one unit: no dispersion across units can be estimated")
    elif p in (0.0, 1.0):
        notes.append(f"pooled rate is exactly {p:g}: Pearson dispersion undefined")
    else:
        x2 = float(np.sum((kk - nn * p) ** 2 / (nn * p * (1.0 - p))))
        phi = x2 / (m - 1)
    if np.isnan(phi):
        lo_od = hi_od = np.nan
    else:
        inflate = max(phi, 1.0)
        lo_od, hi_od = wilson(K / inflate, N / inflate, level)
    out.update(
        estimate=p,
        ci_low=lo,
        ci_high=hi,
        phi=phi,
        ci_low_overdispersed=lo_od,
        ci_high_overdispersed=hi_od,
        mean_of_rates=float(np.mean(kk / nn)),
    )
    out["note"] = "; ".join(notes)
    return out


# --------------------------------------------------------------------------- 4. homogeneity


def _count_table(table: Any) -> pd.DataFrame:
    df = pd.DataFrame(table)
    if df.ndim != 2 or df.size == 0:
        raise ValueError("table must be a non-empty 2-d table of counts (units × categories)")
    values = df.astype("float64").to_numpy()
    if np.isnan(values).any():
        raise ValueError("table contains NaN: drop those units or fill the cells before testing")
    if (values < 0).any():
        raise ValueError("table must hold counts >= 0; got a negative value")
    if not np.all(values == np.round(values)):
        raise ValueError("table must hold whole counts; got a non-integer value")
    return pd.DataFrame(values.astype("int64"), index=df.index, columns=df.columns)


def _drop_empty(df: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    rows = df.sum(axis=1) > 0
    cols = df.sum(axis=0) > 0
    kept = df.loc[rows, cols]
    return kept, int((~rows).sum()), int((~cols).sum())


def cramers_v(table: Any) -> float:
    """Cramér's V of a table of counts: ``sqrt(χ² / (N · (min(r, c) − 1)))``.

    All-zero rows and columns are dropped first; χ² is Pearson's statistic
    without continuity correction (:func:`scipy.stats.contingency.association`).
    NaN when fewer than two rows or columns remain.

    Reference: H. Cramér (1946), Mathematical Methods of Statistics, p. 282.

    >>> round(cramers_v([[10, 0], [0, 10]]), 6)
    1.0
    """
    kept, _, _ = _drop_empty(_count_table(table))
    if min(kept.shape) < 2:
        return float("nan")
    return float(stats.contingency.association(kept.to_numpy(), method="cramer", correction=False))


@dataclass(frozen=True)
class Homogeneity:
    """Result of :func:`homogeneity`; ``asdict`` via :meth:`to_dict`."""

    chi2: float
    dof: int
    p_value: float
    p_value_mc: float
    n_resamples: int
    seed: int | None
    cramers_v: float
    phi: float
    n_total: int
    n_rows: int
    n_cols: int
    dropped_rows: int
    dropped_cols: int
    min_expected: float
    share_expected_below_5: float
    cochran_ok: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def homogeneity(table: Any, n_resamples: int = 2000, seed: int | None = 0) -> Homogeneity:
    """Chi-square test that all units (rows) share one distribution over the categories (columns).

    All-zero rows and columns are dropped first (``dropped_rows``,
    ``dropped_cols``).  Then, with ``N`` the total and ``r × c`` the remaining
    shape, from :func:`scipy.stats.chi2_contingency` (no continuity
    correction)::

        χ² = Σ (O − E)² / E,   E = row total · column total / N,   dof = (r − 1)(c − 1)
        Cramér's V = sqrt(χ² / (N · (min(r, c) − 1)))
        φ = χ² / dof          (overdispersion relative to multinomial sampling)

    ``share_expected_below_5`` is the share of cells with ``E < 5``; Cochran's
    rule (``cochran_ok``) asks for none below 1 and at most 20 % below 5, else
    the asymptotic ``p_value`` is doubtful and ``p_value_mc`` should be read:
    a Monte-Carlo p-value from ``n_resamples`` tables drawn with the observed
    margins (:class:`scipy.stats.MonteCarloMethod`, Patefield's algorithm via
    :func:`scipy.stats.random_table`), ``(1 + #{χ²* ≥ χ²}) / (B + 1)``,
    deterministic for a fixed ``seed``.  ``n_resamples=0`` skips it (NaN).

    With huge ``N`` every real difference is "significant"; φ and V say how
    large the heterogeneity is.

    References: Cochran (1954), Biometrics 10:417–451; Patefield (1981),
    Applied Statistics 30:91–97; Agresti (2013), Categorical Data Analysis,
    3rd ed., §3.2.
    """
    if not (isinstance(n_resamples, (int, np.integer)) and n_resamples >= 0):
        raise ValueError(f"n_resamples must be an integer >= 0, got {n_resamples!r}")
    df = _count_table(table)
    kept, drop_r, drop_c = _drop_empty(df)
    r, c = kept.shape
    N = int(kept.to_numpy().sum())
    notes = []
    if drop_r or drop_c:
        notes.append(f"dropped {drop_r} all-zero row(s) and {drop_c} all-zero column(s)")
    if r < 2 or c < 2:
        notes.append(f"after dropping empty rows/columns the table is {r} × {c}: no test possible")
        return Homogeneity(np.nan, 0, np.nan, np.nan, 0, seed, np.nan, np.nan, N, r, c,
                           drop_r, drop_c, np.nan, np.nan, False, "; ".join(notes))
    obs = kept.to_numpy()
    res = stats.chi2_contingency(obs, correction=False)
    expected = np.asarray(res.expected_freq)
    chi2, dof, p = float(res.statistic), int(res.dof), float(res.pvalue)
    share5 = float(np.mean(expected < 5))
    min_exp = float(expected.min())
    cochran = bool(min_exp >= 1.0 and share5 <= 0.2)
    if not cochran:
        notes.append(
            f"{share5:.0%} of expected counts < 5 (min {min_exp:.2g}): asymptotic p doubtful, read p_value_mc"
        )
    p_mc = np.nan
    if n_resamples > 0:
        method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
        p_mc = float(stats.chi2_contingency(obs, correction=False, method=method).pvalue)
    v = math.sqrt(chi2 / (N * (min(r, c) - 1)))
    return Homogeneity(
        chi2=chi2, dof=dof, p_value=p, p_value_mc=p_mc, n_resamples=int(n_resamples), seed=seed,
        cramers_v=v, phi=chi2 / dof, n_total=N, n_rows=r, n_cols=c, dropped_rows=drop_r,
        dropped_cols=drop_c, min_expected=min_exp, share_expected_below_5=share5,
        cochran_ok=cochran, note="; ".join(notes),
    )


# --------------------------------------------------------------------------- 5. funnel plots


def _check_target(p0: float) -> float:
    p0 = float(p0)
    if not (0.0 < p0 < 1.0):
        raise ValueError(f"target proportion must be strictly between 0 and 1, got {p0!r}")
    return p0


def _binom_interp_quantile(q: float, n: np.ndarray, p0: float) -> np.ndarray:
    """Spiegelhalter's interpolated binomial quantile, as a count.

    ``r`` = smallest integer with ``F(r) ≥ q`` (``binom.ppf``);
    ``α = (F(r) − q) / (F(r) − F(r − 1))``; result ``r − α``: the point where the
    CDF, linearly interpolated between ``r − 1`` and ``r``, reaches ``q``.
    """
    r = stats.binom.ppf(q, n, p0)
    f_r = stats.binom.cdf(r, n, p0)
    f_rm1 = np.where(r > 0, stats.binom.cdf(r - 1, n, p0), 0.0)
    alpha = (f_r - q) / (f_r - f_rm1)  # F(r) > F(r-1) always: the pmf at r is positive for 0 < p0 < 1
    return r - alpha


def funnel_limits(target_p: float, n_grid: Any, levels: tuple[float, ...] = (0.95, 0.998)) -> pd.DataFrame:
    """Exact binomial funnel-plot control limits for a proportion, smooth in ``n``.

    For each ``n`` and level ``L`` the limits are the ``(1 − L)/2`` and
    ``(1 + L)/2`` quantiles of ``Binomial(n, p0) / n``, made continuous by
    Spiegelhalter's interpolation: with ``r_q`` the smallest ``r`` with
    ``F(r) ≥ q``::

        α = (F(r_q) − q) / (F(r_q) − F(r_q − 1)),     limit = (r_q − α) / n

    clipped to [0, 1].  ``n_grid`` must hold whole numbers ≥ 1 (binomial
    sizes).  Returns a long DataFrame with columns ``n, level, lo, hi``.

    The interpolation spreads the probability of ``r`` over ``(r − 1, r]``, so
    the limits sit up to ``1/n`` below the symmetric ones (at ``p0 = 0.5``,
    ``n = 100``: 0.3968 and 0.5932, against 0.402 and 0.598 from the normal
    approximation); the effect vanishes as ``n`` grows.

    Reference: D. J. Spiegelhalter (2005), "Funnel plots for comparing
    institutional performance", Stat Med 24:1185–1202, Appendix A.1.1.

    >>> funnel_limits(0.5, [100], levels=(0.95,)).round(4).to_dict("records")
    [{'n': 100, 'level': 0.95, 'lo': 0.3968, 'hi': 0.5932}]
    """
    p0 = _check_target(target_p)
    n = np.atleast_1d(_float_array(n_grid, "n_grid")).ravel()
    if n.size == 0 or np.isnan(n).any() or (n < 1).any() or not np.all(n == np.round(n)):
        raise ValueError("n_grid must hold whole numbers >= 1 (binomial sample sizes), without NaN")
    frames = []
    for level in levels:
        _check_level(level, "each level")
        a = (1.0 - level) / 2.0
        lo = np.clip(_binom_interp_quantile(a, n, p0) / n, 0.0, 1.0)
        hi = np.clip(_binom_interp_quantile(1.0 - a, n, p0) / n, 0.0, 1.0)
        frames.append(pd.DataFrame({"n": n.astype("int64"), "level": float(level), "lo": lo, "hi": hi}))
    return pd.concat(frames, ignore_index=True)


def funnel_od_limits(
    target_p: float,
    n_grid: Any,
    tau2: float = 0.0,
    phi: float = 1.0,
    levels: tuple[float, ...] = (0.95, 0.998),
) -> pd.DataFrame:
    """Normal-approximation funnel limits with and without overdispersion.

    With ``s² = p0 (1 − p0) / n`` and ``z`` the two-sided quantile of each level::

        lo, hi                         = p0 ∓ z · s
        lo_additive, hi_additive       = p0 ∓ z · sqrt(s² + τ²)
        lo_multiplicative, hi_multiplicative = p0 ∓ z · sqrt(max(φ, 1) · s²)

    all clipped to [0, 1].  ``n_grid`` may be any positive numbers here.
    Columns: ``n, level, lo, hi, lo_additive, hi_additive, lo_multiplicative,
    hi_multiplicative``.

    Reference: Spiegelhalter (2005), Stat Med 24:1185–1202, §3.2–3.3;
    Spiegelhalter, Sherlaw-Johnson, Bardsley et al. (2012), "Statistical
    methods for healthcare regulation", JRSS A 175:1–47, §6.
    """
    p0 = _check_target(target_p)
    n = np.atleast_1d(_float_array(n_grid, "n_grid")).ravel()
    if n.size == 0 or np.isnan(n).any() or (n <= 0).any():
        raise ValueError("n_grid must hold positive numbers without NaN")
    if not (tau2 >= 0):
        raise ValueError(f"tau2 must be >= 0, got {tau2!r}")
    if not (phi > 0):
        raise ValueError(f"phi must be > 0, got {phi!r}")
    s2 = p0 * (1.0 - p0) / n
    frames = []
    for level in levels:
        z = z_for_level(level)
        cols = {"n": n, "level": float(level)}
        for name, var in (("", s2), ("_additive", s2 + tau2), ("_multiplicative", max(phi, 1.0) * s2)):
            half = z * np.sqrt(var)
            cols["lo" + name] = np.clip(p0 - half, 0.0, 1.0)
            cols["hi" + name] = np.clip(p0 + half, 0.0, 1.0)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class FunnelDispersion:
    """Result of :func:`funnel_overdispersion`.

    ``units`` has one row per input unit: ``numerator, denominator, rate, se,
    z, z_winsorised, winsorised, z_additive`` (NaN for units with ``n = 0``).
    """

    target: float
    target_source: str
    n_units: int
    n_excluded: int
    winsor: float
    z_low: float
    z_high: float
    phi: float
    phi_unwinsorised: float
    dispersion_p: float
    tau2: float
    units: pd.DataFrame = field(repr=False)
    note: str = ""

    def limits(self, n_grid: Any, levels: tuple[float, ...] = (0.95, 0.998)) -> pd.DataFrame:
        """:func:`funnel_od_limits` with this fit's target, τ² and φ."""
        return funnel_od_limits(self.target, n_grid, tau2=self.tau2, phi=self.phi, levels=levels)


def funnel_overdispersion(k: Any, n: Any, target: float | None = None, winsor: float = 0.1) -> FunnelDispersion:
    """z-scores, winsorised dispersion φ and additive between-unit variance τ² for a funnel plot.

    With ``y_i = k_i / n_i``, target ``p0`` (given, or the pooled ``Σk/Σn``),
    ``s_i² = p0 (1 − p0) / n_i`` and ``I`` units (``n_i > 0``)::

        z_i  = (y_i − p0) / s_i
        z̃_i  = min(max(z_i, Q(w)), Q(1 − w))     (winsorised at the w and 1 − w quantiles)
        φ    = (1/I) Σ z̃_i²
        w_i  = 1 / s_i²
        τ²   = max(0, (I φ − (I − 1)) / (Σw_i − Σw_i² / Σw_i))

    ``Q`` is the sample quantile with linear interpolation (numpy's default,
    R's type 7).  ``dispersion_p`` is the upper tail of ``χ²`` on ``I − 1``
    degrees of freedom (``I`` when the target is given) at the unwinsorised
    ``Σ z_i²``, a test of "no overdispersion".  ``units.z_additive`` is
    ``(y_i − p0) / sqrt(s_i² + τ²)``.

    Reading φ: without overdispersion the unwinsorised ``phi_unwinsorised`` is
    about 1, but the 10 %-winsorised φ of normal z-scores is about 0.68
    (``E[min(|z|, 1.2816)²]``), so φ < 1 is not evidence of underdispersion;
    τ² is then 0.

    References: Spiegelhalter (2005), Stat Med 24:1185–1202, §3.3 (winsorised
    φ) and §3.4 (additive τ²); Spiegelhalter et al. (2012), JRSS A 175:1–47;
    DerSimonian & Laird (1986), Controlled Clinical Trials 7:177–188.

    >>> fd = funnel_overdispersion([10, 10, 10], [100, 100, 100])
    >>> fd.phi, fd.tau2
    (0.0, 0.0)
    """
    if not (0.0 <= winsor < 0.5):
        raise ValueError(f"winsor must be in [0, 0.5), got {winsor!r}")
    k_all = np.atleast_1d(_float_array(k, "k")).ravel()
    n_all = np.atleast_1d(_float_array(n, "n")).ravel()
    kk, nn, n_missing, n_zero = _clean_units(k_all, n_all)
    notes = []
    if n_missing or n_zero:
        notes.append(f"{n_missing + n_zero} unit(s) left out ({n_missing} missing, {n_zero} with n = 0)")
    I = int(kk.size)
    if I < 2:
        raise ValueError(f"at least two units with a denominator are needed, got {I}")
    if target is None:
        p0 = float(kk.sum() / nn.sum())
        if not (0.0 < p0 < 1.0):
            raise ValueError(f"pooled rate is exactly {p0:g}: z-scores are undefined (no variance)")
        source, dof = "pooled", I - 1
    else:
        p0, source, dof = _check_target(target), "given", I
    with np.errstate(invalid="ignore", divide="ignore"):
        s2_all = p0 * (1.0 - p0) / n_all
        usable = (n_all > 0) & ~np.isnan(k_all)
        rate_all = np.where(usable, k_all / np.where(n_all > 0, n_all, 1.0), np.nan)
        z_all = np.where(usable, (rate_all - p0) / np.sqrt(s2_all), np.nan)
    z = z_all[usable]
    s2 = s2_all[usable]
    z_low, z_high = (float(q) for q in np.quantile(z, [winsor, 1.0 - winsor]))
    zw = np.clip(z, z_low, z_high)
    phi = float(np.mean(zw**2))
    phi_raw = float(np.mean(z**2))
    disp_p = float(stats.chi2.sf(I * phi_raw, dof))
    w = 1.0 / s2
    denom = float(w.sum() - (w**2).sum() / w.sum())
    if denom <= 0:  # all weights equal is fine (denominator (I-1)·w); only I < 2 gives 0, excluded above
        raise ValueError("the τ² denominator Σw − Σw²/Σw is not positive")
    tau2 = max(0.0, (I * phi - (I - 1)) / denom)
    zw_all = np.full(z_all.shape, np.nan)
    zw_all[usable] = zw
    flag = np.zeros(z_all.shape, dtype=bool)
    flag[usable] = (z < z_low) | (z > z_high)
    with np.errstate(invalid="ignore"):
        z_add = np.where(usable, (rate_all - p0) / np.sqrt(s2_all + tau2), np.nan)
    units = pd.DataFrame(
        {
            "numerator": k_all,
            "denominator": n_all,
            "rate": rate_all,
            "se": np.where(usable, np.sqrt(np.where(n_all > 0, s2_all, np.nan)), np.nan),
            "z": z_all,
            "z_winsorised": zw_all,
            "winsorised": flag,
            "z_additive": z_add,
        },
        index=k.index if isinstance(k, pd.Series) else None,
    )
    return FunnelDispersion(
        target=p0, target_source=source, n_units=I, n_excluded=n_missing + n_zero, winsor=float(winsor),
        z_low=z_low, z_high=z_high, phi=phi, phi_unwinsorised=phi_raw, dispersion_p=disp_p,
        tau2=float(tau2), units=units, note="; ".join(notes),
    )


def funnel_classify(
    k: Any,
    n: Any,
    target: float,
    levels: tuple[float, ...] = (0.95, 0.998),
    method: str = "exact",
    tau2: float = 0.0,
    phi: float = 1.0,
) -> pd.DataFrame:
    """Place each unit below, within or above each funnel limit.

    ``method``: ``"exact"`` (:func:`funnel_limits` at the unit's own ``n``),
    ``"normal"`` (``p0 ± z s``), ``"additive"`` (``p0 ± z sqrt(s² + τ²)``) or
    ``"multiplicative"`` (``p0 ± z sqrt(max(φ,1) s²)``).  A rate strictly
    beyond a limit is outside it; on the limit counts as within.  Units with
    ``n = 0`` or NaN get ``<NA>``.

    Columns: ``numerator, denominator, rate`` and one ``position_<level>`` per
    level (e.g. ``position_0.95``) holding ``"below" | "within" | "above"``.

    >>> funnel_classify([50, 70], [100, 100], 0.5, levels=(0.95,))["position_0.95"].tolist()
    ['within', 'above']
    """
    if method not in ("exact", "normal", "additive", "multiplicative"):
        raise ValueError(f"method must be exact, normal, additive or multiplicative, got {method!r}")
    p0 = _check_target(target)
    kk = np.atleast_1d(_float_array(k, "k")).ravel()
    nn = np.atleast_1d(_float_array(n, "n")).ravel()
    if kk.shape != nn.shape:
        raise ValueError(f"k and n must have the same length, got {kk.size} and {nn.size}")
    _check_counts(kk, nn)
    usable = (nn > 0) & ~np.isnan(kk)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(usable, kk / np.where(nn > 0, nn, 1.0), np.nan)
    out = pd.DataFrame(
        {"numerator": kk, "denominator": nn, "rate": rate},
        index=k.index if isinstance(k, pd.Series) else None,
    )
    n_use = nn[usable]
    for level in levels:
        col = np.full(kk.shape, None, dtype=object)
        if n_use.size:
            if method == "exact":
                if not np.all(n_use == np.round(n_use)):
                    raise ValueError("exact limits need whole-number denominators")
                lim = funnel_limits(p0, n_use, levels=(level,))
                prefix = ""
            else:
                lim = funnel_od_limits(p0, n_use, tau2=tau2, phi=phi, levels=(level,))
                prefix = "" if method == "normal" else "_" + method
            lo = lim["lo" + prefix].to_numpy()
            hi = lim["hi" + prefix].to_numpy()
            y = rate[usable]
            col[usable] = np.where(y < lo, "below", np.where(y > hi, "above", "within"))
        out[f"position_{level:g}"] = pd.array(col, dtype="string")
    return out


# --------------------------------------------------------------------------- 6. shrinkage


@dataclass(frozen=True)
class EBFit:
    """Result of :func:`eb_shrink`.

    ``units`` columns: ``numerator, denominator, raw_rate, posterior_mean,
    ci_low, ci_high, shrinkage`` (the weight ``(α+β)/(α+β+n)`` on the prior
    mean; 1 under complete pooling).
    """

    method: str
    alpha: float
    beta: float
    prior_mean: float
    prior_size: float
    no_overdispersion: bool
    loglik: float
    loglik_binomial: float
    n_units: int
    n_excluded: int
    units: pd.DataFrame = field(repr=False)
    note: str = ""


def _bb_moments(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Method-of-moments ``(μ, ρ)`` of the beta-binomial; ρ = 1/(α+β+1), may be ≤ 0."""
    m = k.size
    N = n.sum()
    mu = k.sum() / N
    x2 = np.sum((k - n * mu) ** 2 / (n * mu * (1.0 - mu)))
    denom = N - np.sum(n**2) / N - (m - 1)
    rho = (x2 - (m - 1)) / denom if denom > 0 else np.nan
    return float(mu), float(rho)


def _bb_negloglik(theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray]:
    a, b = np.exp(theta)
    ll = stats.betabinom.logpmf(k, n, a, b).sum()
    common = special.digamma(a + b) - special.digamma(n + a + b)
    da = np.sum(special.digamma(k + a) - special.digamma(a) + common)
    db = np.sum(special.digamma(n - k + b) - special.digamma(b) + common)
    return -float(ll), -np.array([a * da, b * db])


def eb_shrink(k: Any, n: Any, method: str = "ml", level: float = 0.95) -> EBFit:
    """Empirical-Bayes beta-binomial shrinkage of unit rates towards the common prior.

    Model: ``k_i ~ Binomial(n_i, θ_i)``, ``θ_i ~ Beta(α, β)``.  Posterior per unit::

        θ_i | k_i ~ Beta(α + k_i, β + n_i − k_i)
        posterior mean = (α + k_i) / (α + β + n_i) = B_i μ + (1 − B_i) k_i/n_i,
        B_i = (α + β) / (α + β + n_i),  μ = α / (α + β)

    with the central ``level`` interval from :func:`scipy.stats.beta.ppf`.

    Fitting ``(α, β)`` to the units with ``n_i > 0``:

    * ``"ml"`` maximises ``Σ log BetaBin(k_i; n_i, α, β)``
      (:func:`scipy.stats.betabinom.logpmf`) over ``(log α, log β)`` with
      L-BFGS-B and the analytic gradient, started from the moment estimate
      (deterministic).
    * ``"mm"`` is the n-weighted method of moments: with ``p = Σk/Σn``, the
      Pearson ``X² = Σ (k_i − n_i p)² / (n_i p (1 − p))`` has expectation
      ``(m − 1) + ρ (N − Σn_i²/N − (m − 1))`` under the model, where
      ``ρ = 1/(α + β + 1)`` is the intra-unit correlation; solving gives::

          ρ̂ = (X² − (m − 1)) / (N − Σn_i²/N − (m − 1)),  α + β = 1/ρ̂ − 1,  α = p (α + β)

      This is the first (weights ``n_i``) step of Kleinman's (1973) weighted
      moment estimator, not iterated.

    When the data show no overdispersion (``ρ̂ ≤ 0`` for ``"mm"``; for
    ``"ml"`` a beta-binomial likelihood no higher than the binomial one at
    ``p``, i.e. the maximum lies at ``α + β → ∞``; for both, a fitted
    ``α + β`` above :data:`SIZE_LIMIT` × the largest ``n``, where the
    likelihood is flat and every shrinkage weight exceeds 0.9999), the fit
    degenerates:
    ``no_overdispersion`` is True, ``alpha = beta = inf`` and every unit gets
    complete pooling — posterior mean ``p`` with the Wilson interval of the
    pooled rate.  Units with ``n = 0`` (or NaN) are not fitted; they get the
    prior (mean μ and the prior's interval) and a NaN raw rate.

    References: Kleinman (1973), Biometrics 29:127–136; Efron & Morris (1975),
    JASA 70:311–319; Gelman et al. (2013), Bayesian Data Analysis, 3rd ed., §5.3.

    >>> fit = eb_shrink([2, 5, 8], [10, 10, 10], method="mm")
    >>> round(fit.alpha + fit.beta, 4), round(float(fit.units.posterior_mean[0]), 6)
    (2.4615, 0.259259)
    """
    if method not in ("ml", "mm"):
        raise ValueError(f"method must be 'ml' or 'mm', got {method!r}")
    _check_level(level)
    k_all = np.atleast_1d(_float_array(k, "k")).ravel()
    n_all = np.atleast_1d(_float_array(n, "n")).ravel()
    kk, nn, n_missing, n_zero = _clean_units(k_all, n_all)
    if not (np.all(kk == np.round(kk)) and np.all(nn == np.round(nn))):
        raise ValueError("eb_shrink needs whole-number counts")
    m = int(kk.size)
    if m < 2:
        raise ValueError(f"at least two units with a denominator are needed to fit a prior, got {m}")
    notes = []
    if n_missing or n_zero:
        notes.append(f"{n_missing + n_zero} unit(s) not fitted ({n_missing} missing, {n_zero} with n = 0)")
    p = float(kk.sum() / nn.sum())
    ll_binom = float(stats.binom.logpmf(kk, nn, p).sum())
    mu_mm, rho_mm = _bb_moments(kk, nn) if 0.0 < p < 1.0 else (p, np.nan)

    degenerate = False
    opt_note = ""
    ll_fit = np.nan
    alpha = beta = np.nan
    if not (0.0 < p < 1.0):
        degenerate = True
        notes.append(f"pooled rate is exactly {p:g}: no variation to fit; complete pooling")
    elif method == "mm":
        if not rho_mm > 0:
            degenerate = True
            notes.append(f"moment estimate ρ = {rho_mm:.3g} ≤ 0: no overdispersion; complete pooling")
        else:
            rho = rho_mm
            if rho >= 1.0:
                rho = 1.0 - 1e-9
                notes.append("moment estimate ρ ≥ 1 (extreme dispersion): prior size set to 1e-9")
            size = 1.0 / rho - 1.0
            alpha, beta = mu_mm * size, (1.0 - mu_mm) * size
            ll_fit = float(stats.betabinom.logpmf(kk, nn, alpha, beta).sum())
    else:
        size0 = 1.0 / rho_mm - 1.0 if 0.0 < rho_mm < 1.0 else 100.0
        size0 = min(max(size0, 1e-3), 1e6)
        theta0 = np.log([p * size0, (1.0 - p) * size0])
        bounds = [(math.log(1e-8), math.log(1e12))] * 2
        res = optimize.minimize(
            _bb_negloglik, theta0, args=(kk, nn), jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        ll_fit = -float(res.fun)
        alpha, beta = (float(v) for v in np.exp(res.x))
        tol = 1e-7 * max(1.0, abs(ll_binom))
        if ll_fit <= ll_binom + tol:
            degenerate = True
            notes.append(
                "beta-binomial likelihood does not exceed the binomial one: "
                "no overdispersion (α + β → ∞); complete pooling"
            )
        elif not res.success and np.max(np.abs(res.jac)) > 1e-6 * max(1.0, abs(ll_fit)):
            # L-BFGS-B may stop on its line search at the flat top of the likelihood ridge; only a
            # stop away from a stationary point is worth reporting
            opt_note = f"optimiser stopped early: {res.message}"
    if not degenerate and alpha + beta > SIZE_LIMIT * nn.max():
        degenerate = True
        notes.append(
            f"fitted α + β = {alpha + beta:.3g} exceeds {SIZE_LIMIT:g} × the largest n: "
            "no overdispersion worth modelling; complete pooling"
        )
    if opt_note and not degenerate:
        notes.append(opt_note)

    z_lo, z_hi = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = (n_all > 0) & ~np.isnan(k_all)
        raw = np.where(usable, k_all / np.where(n_all > 0, n_all, 1.0), np.nan)
    k_post = np.where(usable, k_all, 0.0)
    n_post = np.where(usable, n_all, 0.0)
    if degenerate:
        alpha = beta = math.inf
        lo, hi = wilson(kk.sum(), nn.sum(), level)
        post_mean = np.full(k_all.shape, p)
        ci_lo = np.full(k_all.shape, lo)
        ci_hi = np.full(k_all.shape, hi)
        shrink = np.ones(k_all.shape)
        prior_mean, prior_size = p, math.inf
    else:
        a_post, b_post = alpha + k_post, beta + n_post - k_post
        post_mean = a_post / (a_post + b_post)
        ci_lo = stats.beta.ppf(z_lo, a_post, b_post)
        ci_hi = stats.beta.ppf(z_hi, a_post, b_post)
        prior_size = alpha + beta
        shrink = prior_size / (prior_size + n_post)
        prior_mean = alpha / prior_size
    units = pd.DataFrame(
        {
            "numerator": k_all,
            "denominator": n_all,
            "raw_rate": raw,
            "posterior_mean": post_mean,
            "ci_low": ci_lo,
            "ci_high": ci_hi,
            "shrinkage": shrink,
        },
        index=k.index if isinstance(k, pd.Series) else None,
    )
    return EBFit(
        method=method, alpha=float(alpha), beta=float(beta), prior_mean=float(prior_mean),
        prior_size=float(prior_size), no_overdispersion=degenerate, loglik=float(ll_fit),
        loglik_binomial=ll_binom, n_units=m, n_excluded=n_missing + n_zero, units=units,
        note="; ".join(notes),
    )


# --------------------------------------------------------------------------- 7. concentration


def _nonneg_values(values: Any) -> np.ndarray:
    x = np.atleast_1d(_float_array(values, "values")).ravel()
    if x.size == 0:
        raise ValueError("values is empty")
    if np.isnan(x).any():
        raise ValueError(f"values contains {int(np.isnan(x).sum())} NaN: drop or fill them first")
    if (x < 0).any():
        raise ValueError("values must be >= 0 (concentration of counts); got a negative value")
    if x.sum() == 0:
        raise ValueError("values sum to 0: shares of the total are undefined")
    return x


def lorenz(values: Any) -> pd.DataFrame:
    """Lorenz curve: cumulative share of units vs cumulative share of the total.

    Values are sorted ascending; row ``i`` (0..n) holds ``share_units = i/n``
    and ``share_total = (x_(1) + … + x_(i)) / Σx``, starting at (0, 0) and
    ending at (1, 1).  Negative or NaN values, and an all-zero input, raise.

    Reference: M. O. Lorenz (1905), Publ. Am. Stat. Assoc. 9:209–219.

    >>> lorenz([3, 1]).to_dict("list")
    {'share_units': [0.0, 0.5, 1.0], 'share_total': [0.0, 0.25, 1.0]}
    """
    x = np.sort(_nonneg_values(values))
    n = x.size
    return pd.DataFrame(
        {
            "share_units": np.arange(n + 1) / n,
            "share_total": np.concatenate([[0.0], np.cumsum(x) / x.sum()]),
        }
    )


def gini(values: Any, correction: bool = False) -> float:
    """Gini coefficient of non-negative values (default: uncorrected).

    With ``x_(1) ≤ … ≤ x_(n)``::

        G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄) = Σ_i (2i − n − 1) x_(i) / (n Σx)

    ``correction=True`` multiplies by ``n/(n − 1)`` (the small-sample form,
    so that one unit holding everything gives 1; needs ``n ≥ 2``).  The default
    is uncorrected because the agencies are the whole population described.
    Negative or NaN values, and an all-zero input, raise ``ValueError``.

    Reference: Gini (1912); Damgaard & Weiner (2000), Ecology 81:1139–1142
    (the ``n/(n−1)`` correction).

    >>> gini([0, 0, 0, 1]), gini([0, 0, 0, 1], correction=True), gini([5, 5, 5])
    (0.75, 1.0, 0.0)
    """
    x = np.sort(_nonneg_values(values))
    n = x.size
    coef = 2 * np.arange(1, n + 1) - n - 1  # whole numbers summing to 0: equal values give exactly 0
    g = float(np.sum(coef * x)) / (n * float(x.sum()))
    if correction:
        if n < 2:
            raise ValueError("the n/(n-1) correction needs at least two values")
        g *= n / (n - 1.0)
    return g


# --------------------------------------------------------------------------- 8. trends


def _trend_note(n_years: int) -> str:
    if n_years < MIN_TREND_YEARS:
        return f"only {n_years} year(s): too few for a trend claim (need >= {MIN_TREND_YEARS})"
    return ""


def trend_test(years: Any, k: Any, n: Any) -> dict[str, Any]:
    """Cochran–Armitage test for a linear trend of a proportion over years.

    With scores ``t_i`` (the years), ``p = Σk/Σn`` and ``N = Σn``::

        T    = Σ t_i (k_i − n_i p)
        S_tt = Σ n_i t_i² − (Σ n_i t_i)² / N
        Z    = T / sqrt(p (1 − p) S_tt)

    ``Z`` is the score test of the slope in a logistic (or linear) regression
    of the outcome on year, and ``Z² = N r²`` with ``r`` the Pearson
    correlation of outcome and year over the ``N`` individual requests.
    Two-sided ``p_value = 2 Φ(−|Z|)``.  ``slope = T / S_tt`` is the weighted
    least-squares change in the proportion per year.  Years with ``n = 0`` or
    NaN are dropped (``n_dropped``).

    Keys: ``n_years, n_dropped, statistic, chi2, p_value, slope, pooled_rate, note``.

    References: Cochran (1954), Biometrics 10:417–451; Armitage (1955),
    Biometrics 11:375–386; Agresti (2013), Categorical Data Analysis, §5.3.5.

    >>> r = trend_test([1, 2, 3], [1, 2, 6], [10, 10, 10])
    >>> round(r["statistic"], 6), r["slope"]
    (2.43975, 0.25)
    """
    t = np.atleast_1d(_float_array(years, "years")).ravel()
    kk = np.atleast_1d(_float_array(k, "k")).ravel()
    nn = np.atleast_1d(_float_array(n, "n")).ravel()
    if not (t.size == kk.size == nn.size):
        raise ValueError(f"years, k and n must have the same length, got {t.size}, {kk.size}, {nn.size}")
    _check_counts(kk, nn)
    keep = ~np.isnan(t) & ~np.isnan(kk) & ~np.isnan(nn) & (nn > 0)
    t, kk, nn = t[keep], kk[keep], nn[keep]
    n_years = int(np.unique(t).size)
    out: dict[str, Any] = {"n_years": n_years, "n_dropped": int((~keep).sum())}
    notes = [s for s in [_trend_note(n_years)] if s]
    nan_result = dict(statistic=np.nan, chi2=np.nan, p_value=np.nan, slope=np.nan)
    if n_years < 2:
        notes.append("fewer than two years with a denominator: no trend test")
        out.update(nan_result, pooled_rate=float(kk.sum() / nn.sum()) if nn.size else np.nan)
        out["note"] = "; ".join(notes)
        return out
    N = nn.sum()
    p = kk.sum() / N
    tc = t - np.sum(nn * t) / N  # centring leaves T and S_tt unchanged and avoids cancellation
    T = float(np.sum(tc * (kk - nn * p)))
    S_tt = float(np.sum(nn * tc**2))
    out["pooled_rate"] = float(p)
    if p in (0.0, 1.0):
        notes.append(f"pooled rate is exactly {p:g}: no variation, no test")
        out.update(nan_result, slope=0.0)
    else:
        zstat = T / math.sqrt(p * (1.0 - p) * S_tt)
        out.update(statistic=zstat, chi2=zstat**2, p_value=float(2.0 * stats.norm.sf(abs(zstat))),
                   slope=T / S_tt)
    out["note"] = "; ".join(notes)
    return out


def count_trend(years: Any, counts: Any, level: float = 0.95) -> dict[str, Any]:
    """Monotone trend of counts over years: Mann–Kendall (Kendall's τ) and the Theil–Sen slope.

    ``tau`` and ``p_value`` come from :func:`scipy.stats.kendalltau` between
    year and count (τ-b; scipy uses the exact null distribution for small
    samples without ties, else the normal approximation with the tie-corrected
    variance), which is the Mann–Kendall test; ``mk_s = Σ_{i<j} sign(x_j − x_i)
    sign(t_j − t_i)`` is its S statistic.  ``slope`` is the Theil–Sen median of
    pairwise slopes (:func:`scipy.stats.theilslopes`) with its ``level``
    interval ``slope_low, slope_high`` (Sen 1968).  NaN pairs are dropped.

    Keys: ``n_years, n_dropped, statistic (= tau), tau, mk_s, p_value, slope,
    intercept, slope_low, slope_high, note``.

    References: Mann (1945), Econometrica 13:245–259; Kendall (1975), Rank
    Correlation Methods; Sen (1968), JASA 63:1379–1389.

    >>> r = count_trend([2019, 2020, 2021, 2022, 2023], [10, 12, 15, 15, 20])
    >>> r["mk_s"], r["slope"]
    (9, 2.5)
    """
    _check_level(level)
    t = np.atleast_1d(_float_array(years, "years")).ravel()
    x = np.atleast_1d(_float_array(counts, "counts")).ravel()
    if t.size != x.size:
        raise ValueError(f"years and counts must have the same length, got {t.size} and {x.size}")
    keep = ~np.isnan(t) & ~np.isnan(x)
    t, x = t[keep], x[keep]
    n_years = int(np.unique(t).size)
    out: dict[str, Any] = {"n_years": n_years, "n_dropped": int((~keep).sum())}
    notes = [s for s in [_trend_note(n_years)] if s]
    nan_keys = dict(statistic=np.nan, tau=np.nan, mk_s=np.nan, p_value=np.nan, slope=np.nan,
                    intercept=np.nan, slope_low=np.nan, slope_high=np.nan)
    if n_years < 2:
        notes.append("fewer than two years: no trend test")
        out.update(nan_keys)
        out["note"] = "; ".join(notes)
        return out
    dt = np.sign(t[None, :] - t[:, None])
    dx = np.sign(x[None, :] - x[:, None])
    s = int(np.sum(np.triu(dt * dx, k=1)))
    if np.all(x == x[0]):
        notes.append("counts constant: Kendall's tau undefined")
        tau, p = np.nan, np.nan
    else:
        kt = stats.kendalltau(t, x)
        tau, p = float(kt.statistic), float(kt.pvalue)
    ts = stats.theilslopes(x, t, alpha=level)
    out.update(statistic=tau, tau=tau, mk_s=s, p_value=p, slope=float(ts.slope),
               intercept=float(ts.intercept), slope_low=float(ts.low_slope),
               slope_high=float(ts.high_slope))
    out["note"] = "; ".join(notes)
    return out
