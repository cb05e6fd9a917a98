"""Statistics of the research layer (helpers.research.stats).

Reference values are of three kinds, named at each test:

* hand computations, with the arithmetic in the test's comments or docstring;
* scipy, where scipy implements the same quantity another way;
* published worked examples: Newcombe (1998, Stat Med 17:857–872) for the
  Wilson interval, the standard exact Poisson table (Garwood 1936) for counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from helpers.research import stats as S
from helpers.research.stats import (
    count_trend,
    cramers_v,
    eb_shrink,
    funnel_classify,
    funnel_limits,
    funnel_od_limits,
    funnel_overdispersion,
    gini,
    homogeneity,
    lorenz,
    poisson_rate_ci,
    pooled,
    rate_table,
    trend_test,
    wilson,
)

Z95 = 1.959963984540054  # Φ⁻¹(0.975)


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        # Newcombe (1998), worked examples of the Wilson score interval (method 3).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_published_examples(k, n, lo, hi):
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=5e-5)
    assert got[1] == pytest.approx(hi, abs=5e-5)


def test_wilson_by_hand_81_of_263():
    # z² = 3.841459; centre = (81 + 1.920729) / (263 + 3.841459) = 82.920729 / 266.841459 = 0.310749
    # half = 1.959964 / 266.841459 · sqrt(81·182/263 + 0.960365) = 0.0073451 · sqrt(57.013597) = 0.055460
    z2 = Z95**2
    centre = (81 + z2 / 2) / (263 + z2)
    half = Z95 / (263 + z2) * math.sqrt(81 * 182 / 263 + z2 / 4)
    assert centre == pytest.approx(0.310749, abs=1e-6)
    assert half == pytest.approx(0.055460, abs=1e-6)
    assert wilson(81, 263) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_wilson_zero_successes_upper_is_z2_over_n_plus_z2():
    # k = 0: centre = half = (z²/2)/(n + z²), so hi = z²/(n + z²) = 3.841459/23.841459 = 0.161124
    assert wilson(0, 20)[1] == pytest.approx(Z95**2 / (20 + Z95**2), rel=1e-12)
    assert wilson(0, 20)[0] == 0.0
    assert wilson(20, 20)[1] == 1.0


@pytest.mark.parametrize("level, n_max", [(0.95, 40), (0.9, 12), (0.998, 12)])
def test_wilson_agrees_with_scipy_on_all_small_tables(level, n_max):
    # every k of every n up to n_max (binomtest is slow: about 1 ms a call)
    ks = np.array([k for n in range(1, n_max + 1) for k in range(n + 1)])
    ns = np.array([n for n in range(1, n_max + 1) for k in range(n + 1)])
    lo, hi = wilson(ks, ns, level)
    ref = np.array(
        [stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
         for k, n in zip(ks, ns)]
    )
    np.testing.assert_allclose(lo, ref[:, 0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(hi, ref[:, 1], rtol=0, atol=1e-13)


def test_wilson_agrees_with_scipy_on_large_random_counts():
    rng = np.random.default_rng(20240601)
    n = rng.integers(1, 200_000, 300)
    k = rng.binomial(n, rng.uniform(0, 1, 300))
    lo, hi = wilson(k, n)
    ref = np.array([stats.binomtest(int(a), int(b)).proportion_ci(method="wilson") for a, b in zip(k, n)])
    np.testing.assert_allclose(lo, ref[:, 0], atol=1e-12)
    np.testing.assert_allclose(hi, ref[:, 1], atol=1e-12)


def test_wilson_missing_denominator_is_nan_not_zero():
    assert all(math.isnan(v) for v in wilson(0, 0))
    lo, hi = wilson([1, 0, np.nan, 3], [2, 0, 5, np.nan])
    assert np.isnan(lo[1:]).all() and np.isnan(hi[1:]).all()
    assert not np.isnan(lo[0])


def test_wilson_scalar_in_scalar_out_and_shape_kept():
    assert isinstance(wilson(3, 10)[0], float)
    lo, hi = wilson(np.array([[1, 2], [3, 4]]), 10)
    assert lo.shape == (2, 2)


@pytest.mark.parametrize("k, n", [(-1, 10), (11, 10), (1, -1)])
def test_wilson_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError):
        wilson(k, n)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, "0.95"])
def test_wilson_rejects_bad_level(level):
    with pytest.raises(ValueError, match="level"):
        wilson(1, 10, level)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 10**6), frac=st.floats(0, 1), level=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.998]))
def test_wilson_properties(n, frac, level):
    k = int(round(frac * n))
    lo, hi = wilson(k, n, level)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    # symmetry: swapping successes and failures mirrors the interval
    lo2, hi2 = wilson(n - k, n, level)
    assert lo2 == pytest.approx(1 - hi, abs=1e-12) and hi2 == pytest.approx(1 - lo, abs=1e-12)
    # more data at the same observed rate gives a narrower interval
    lo3, hi3 = wilson(3 * k, 3 * n, level)
    assert hi3 - lo3 < hi - lo
    # a higher confidence level gives a wider interval
    lo4, hi4 = wilson(k, n, 0.9999)
    assert lo4 <= lo and hi4 >= hi


def test_rate_table_columns_missing_rate_and_index():
    k = pd.Series([3, 0, 0], index=["a", "b", "c"])
    n = pd.Series([10, 0, 5], index=["a", "b", "c"])
    t = rate_table(k, n)
    assert list(t.columns) == ["numerator", "denominator", "estimate", "ci_low", "ci_high"]
    assert list(t.index) == ["a", "b", "c"]
    assert t.loc["a", "estimate"] == 0.3
    assert np.isnan(t.loc["b", "estimate"]) and np.isnan(t.loc["b", "ci_low"])
    assert t.loc["c", "estimate"] == 0.0 and t.loc["c", "ci_low"] == 0.0  # 0 of 5 is a real 0
    assert (t.loc["a", "ci_low"], t.loc["a", "ci_high"]) == wilson(3, 10)


def test_rate_table_accepts_nullable_integers():
    t = rate_table(pd.Series([1, pd.NA], dtype="Int64"), pd.Series([4, 4], dtype="Int64"))
    assert t["estimate"].iloc[0] == 0.25 and np.isnan(t["estimate"].iloc[1])


# --------------------------------------------------------------------------- Poisson


@pytest.mark.parametrize(
    "x, lo, hi",
    # Exact (Garwood) 95 % limits for a Poisson count, as tabulated in the literature
    # (e.g. Ulm 1990, Am J Epidemiol 131:373): 0 → (0, 3.689), 1 → (0.0253, 5.572), 10 → (4.795, 18.39).
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (10, 4.795, 18.39)],
)
def test_poisson_published_limits(x, lo, hi):
    # exposure 100 and per 100: the rate limits equal the count limits
    est, got_lo, got_hi = poisson_rate_ci(x, 100, per=100)
    assert est == x
    assert got_lo == pytest.approx(lo, abs=6e-4)
    assert got_hi == pytest.approx(hi, abs=6e-3)


def test_poisson_zero_count_upper_limit_by_hand():
    # χ²_{0.975}(2)/2 = −ln(0.025) = 3.688879: the chi-square with 2 df is exponential with mean 2
    _, lo, hi = poisson_rate_ci(0, 1, per=1)
    assert lo == 0.0 and hi == pytest.approx(-math.log(0.025), rel=1e-12)


def test_poisson_matches_gamma_form_and_scales_with_per_and_exposure():
    x = np.arange(0, 200)
    est, lo, hi = poisson_rate_ci(x, 250.0, per=100, level=0.9)
    # Garwood limits via the gamma distribution: lo = Γ⁻¹(0.05; x), hi = Γ⁻¹(0.95; x + 1)
    g_lo = np.where(x > 0, stats.gamma.ppf(0.05, np.maximum(x, 1)), 0.0)
    g_hi = stats.gamma.ppf(0.95, x + 1)
    np.testing.assert_allclose(lo, 100 * g_lo / 250, rtol=1e-10)
    np.testing.assert_allclose(hi, 100 * g_hi / 250, rtol=1e-10)
    assert np.all((lo <= est) & (est <= hi))


def test_poisson_zero_exposure_is_missing():
    est, lo, hi = poisson_rate_ci([3, 0], [0, 0])
    assert np.isnan(est).all() and np.isnan(lo).all() and np.isnan(hi).all()
    with pytest.raises(ValueError):
        poisson_rate_ci(-1, 10)
    with pytest.raises(ValueError, match="per"):
        poisson_rate_ci(1, 10, per=0)


# --------------------------------------------------------------------------- pooled


def test_pooled_hand_example():
    """k = (2, 5, 8) of n = (10, 10, 10).

    p = 15/30 = 0.5; rates 0.2, 0.5, 0.8.
    X² = Σ (k − n p)² / (n p (1 − p)) = (9 + 0 + 9) / 2.5 = 7.2;  φ = 7.2 / (3 − 1) = 3.6.
    Overdispersed interval = Wilson with 15/3.6 = 4.1667 of 30/3.6 = 8.3333:
    centre = 0.5 (symmetric); half = z/(8.3333 + z²) · sqrt(4.1667·4.1667/8.3333 + z²/4)
           = 1.959964/12.174792 · sqrt(2.083333 + 0.960365) = 0.160986 · 1.744620 = 0.280859.
    """
    r = pooled([2, 5, 8], [10, 10, 10])
    assert (r["k"], r["n"], r["m_units"], r["m_excluded"]) == (15.0, 30.0, 3, 0)
    assert r["estimate"] == 0.5
    assert r["phi"] == pytest.approx(3.6, rel=1e-12)
    assert (r["ci_low"], r["ci_high"]) == wilson(15, 30)
    assert r["ci_low_overdispersed"] == pytest.approx(0.5 - 0.280859, abs=2e-6)
    assert r["ci_high_overdispersed"] == pytest.approx(0.5 + 0.280859, abs=2e-6)
    assert r["mean_of_rates"] == pytest.approx(0.5)
    assert r["note"] == ""


def test_pooled_versus_mean_of_rates_and_exclusions():
    # pooled = (1 + 50)/(10 + 100) = 51/110 = 0.463636; mean of rates = (0.1 + 0.5)/2 = 0.3
    r = pooled([1, 50, 0, np.nan], [10, 100, 0, 7])
    assert r["estimate"] == pytest.approx(51 / 110)
    assert r["mean_of_rates"] == pytest.approx(0.3)
    assert r["m_units"] == 2 and r["m_excluded"] == 2
    assert "2 unit(s) left out" in r["note"]


def test_pooled_underdispersion_does_not_narrow():
    # identical rates: X² = 0, φ = 0; the overdispersed interval is the plain one (max(φ, 1) = 1)
    r = pooled([5, 5, 5], [10, 10, 10])
    assert r["phi"] == 0.0
    assert r["ci_low_overdispersed"] == pytest.approx(r["ci_low"])
    assert r["ci_high_overdispersed"] == pytest.approx(r["ci_high"])


def test_pooled_undefined_dispersion_is_said():
    r = pooled([0, 0], [10, 20])
    assert r["estimate"] == 0.0 and np.isnan(r["phi"]) and "exactly 0" in r["note"]
    r = pooled([3], [10])
    assert np.isnan(r["phi"]) and "one unit" in r["note"]
    r = pooled([0, 0], [0, 0])
    assert np.isnan(r["estimate"]) and r["m_units"] == 0


def test_pooled_phi_near_one_for_binomial_data():
    rng = np.random.default_rng(7)
    n = rng.integers(20, 400, 500)
    k = rng.binomial(n, 0.3)
    # E[X²] = m − 1 under the binomial, sd ≈ sqrt(2/(m−1)) = 0.063 for φ
    assert pooled(k, n)["phi"] == pytest.approx(1.0, abs=0.2)


# --------------------------------------------------------------------------- homogeneity


def test_homogeneity_hand_example_with_empty_row_and_column():
    """Observed [[10, 20], [20, 10]] plus an all-zero row and column.

    N = 60, all margins 30, so every expected count is 30·30/60 = 15.
    χ² = 4 · (10 − 15)²/15 = 100/15 = 6.6667, dof = 1, φ = 6.6667.
    V = sqrt(6.6667 / (60 · 1)) = sqrt(1/9) = 1/3.
    """
    t = pd.DataFrame([[10, 20, 0], [20, 10, 0], [0, 0, 0]], index=["a", "b", "c"], columns=["x", "y", "z"])
    h = homogeneity(t, n_resamples=2000, seed=1)
    assert (h.dropped_rows, h.dropped_cols, h.n_rows, h.n_cols, h.n_total) == (1, 1, 2, 2, 60)
    assert h.chi2 == pytest.approx(100 / 15)
    assert h.dof == 1 and h.phi == pytest.approx(100 / 15)
    assert h.cramers_v == pytest.approx(1 / 3)
    assert h.p_value == pytest.approx(stats.chi2.sf(100 / 15, 1))
    assert h.min_expected == 15 and h.share_expected_below_5 == 0 and h.cochran_ok
    assert "dropped 1" in h.note
    # Monte Carlo p: with symmetric margins, "χ² at least as large" is "|a − 15| ≥ 5" for the
    # top-left cell a ~ Hypergeometric(60, 30, 30): the exact conditional p-value.
    hg = stats.hypergeom(60, 30, 30)
    exact = hg.cdf(10) + hg.sf(19)
    assert h.p_value_mc == pytest.approx(exact, abs=0.012)  # 4 sd of a 2,000-draw estimate
    assert h.to_dict()["chi2"] == h.chi2


def test_homogeneity_matches_scipy_and_is_deterministic():
    rng = np.random.default_rng(3)
    t = rng.poisson(3.0, size=(8, 5))
    h1 = homogeneity(t, n_resamples=500, seed=11)
    h2 = homogeneity(t, n_resamples=500, seed=11)
    assert h1 == h2 or h1.to_dict() == h2.to_dict()
    ref = stats.chi2_contingency(t, correction=False)
    assert h1.chi2 == pytest.approx(ref.statistic) and h1.dof == ref.dof
    assert h1.p_value == pytest.approx(ref.pvalue)
    assert h1.cramers_v == pytest.approx(stats.contingency.association(t, method="cramer"))
    assert h1.share_expected_below_5 == pytest.approx(np.mean(ref.expected_freq < 5))
    # the Monte-Carlo p-value is (1 + hits)/(B + 1): a multiple of 1/501
    assert (h1.p_value_mc * 501) == pytest.approx(round(h1.p_value_mc * 501))


def test_homogeneity_sparse_table_flags_cochran():
    h = homogeneity([[1, 0, 2], [0, 1, 0], [3, 0, 1]], n_resamples=200, seed=0)
    assert not h.cochran_ok and "p_value_mc" in h.note
    assert 0 < h.p_value_mc <= 1


def test_homogeneity_degenerate_and_invalid_tables():
    h = homogeneity([[5, 0], [7, 0]])  # one column left: no test
    assert np.isnan(h.chi2) and h.dropped_cols == 1 and "no test" in h.note
    with pytest.raises(ValueError, match="NaN"):
        homogeneity([[1, np.nan], [2, 3]])
    with pytest.raises(ValueError, match="whole"):
        homogeneity([[1.5, 1], [2, 3]])
    with pytest.raises(ValueError, match=">= 0"):
        homogeneity([[-1, 1], [2, 3]])


def test_cramers_v_values():
    assert cramers_v([[10, 0], [0, 10]]) == pytest.approx(1.0)
    assert cramers_v([[5, 5], [5, 5]]) == pytest.approx(0.0)
    assert cramers_v([[10, 20, 0], [20, 10, 0]]) == pytest.approx(1 / 3)  # zero column dropped
    assert math.isnan(cramers_v([[1, 2, 3]]))


# --------------------------------------------------------------------------- funnel limits


def test_funnel_limits_hand_example_n10():
    """Binomial(10, 0.5): F(1) = 11/1024, F(2) = 56/1024, F(7) = 968/1024, F(8) = 1013/1024.

    Lower 95 % (q = 0.025 = 25.6/1024): r = 2, α = (56 − 25.6)/(56 − 11) = 30.4/45 = 0.675556,
    limit = (2 − 0.675556)/10 = 0.1324444.
    Upper (q = 0.975 = 998.4/1024): r = 8, α = (1013 − 998.4)/(1013 − 968) = 14.6/45 = 0.324444,
    limit = (8 − 0.324444)/10 = 0.7675556.
    """
    t = funnel_limits(0.5, [10], levels=(0.95,))
    assert list(t.columns) == ["n", "level", "lo", "hi"]
    assert t.loc[0, "lo"] == pytest.approx((2 - 30.4 / 45) / 10, abs=1e-12)
    assert t.loc[0, "hi"] == pytest.approx((8 - 14.6 / 45) / 10, abs=1e-12)


def test_funnel_limits_invert_the_interpolated_cdf():
    p0 = 0.23
    n = np.arange(1, 400)
    t = funnel_limits(p0, n, levels=(0.95, 0.998))
    for level, grp in t.groupby("level"):
        for col, q in (("lo", (1 - level) / 2), ("hi", (1 + level) / 2)):
            x = grp[col].to_numpy() * grp["n"].to_numpy()
            nn = grp["n"].to_numpy()
            inside = (grp[col] > 0).to_numpy() & (grp[col] < 1).to_numpy()
            r = np.ceil(x[inside])
            f_r = stats.binom.cdf(r, nn[inside], p0)
            f_rm1 = stats.binom.cdf(r - 1, nn[inside], p0)
            # the CDF interpolated linearly between r − 1 and r equals q at the limit
            interp = f_rm1 + (x[inside] - (r - 1)) * (f_r - f_rm1)
            np.testing.assert_allclose(interp, q, atol=1e-10)


def test_funnel_limits_approach_normal_limits_and_nest():
    p0 = 0.3
    n = np.array([2_000, 20_000, 200_000])
    t = funnel_limits(p0, n, levels=(0.95, 0.998))
    norm = funnel_od_limits(p0, n, levels=(0.95, 0.998))
    # the exact limits sit within a couple of units (1/n) of the normal ones at large n
    np.testing.assert_allclose(t["lo"], norm["lo"], atol=3 / 2_000)
    np.testing.assert_allclose(t["hi"], norm["hi"], atol=3 / 2_000)
    w95 = t[t.level == 0.95].reset_index(drop=True)
    w998 = t[t.level == 0.998].reset_index(drop=True)
    assert (w998.lo <= w95.lo).all() and (w998.hi >= w95.hi).all()
    assert w95.lo.is_monotonic_increasing and w95.hi.is_monotonic_decreasing


def test_funnel_limits_clip_and_validate():
    t = funnel_limits(0.01, [5], levels=(0.95,))
    assert t.loc[0, "lo"] == 0.0 and 0 < t.loc[0, "hi"] < 1
    with pytest.raises(ValueError, match="whole"):
        funnel_limits(0.5, [10.5])
    with pytest.raises(ValueError, match="whole"):
        funnel_limits(0.5, [0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        funnel_limits(0.0, [10])


# --------------------------------------------------------------------------- funnel overdispersion

# Target p0 = 0.2 given, so s_i² = 0.16/n_i.
HAND_K = [12, 84, 5, 6, 20]
HAND_N = [100, 400, 25, 16, 64]


def test_funnel_overdispersion_hand_example():
    """Five units, p0 = 0.2, 10 % winsorisation.

    n = 100, 400, 25, 16, 64 → s = 0.4/sqrt(n) = 0.04, 0.02, 0.08, 0.1, 0.05
    y = 0.12, 0.21, 0.20, 0.375, 0.3125
    z = (y − 0.2)/s = −2.0, 0.5, 0.0, 1.75, 2.25
    sorted z: −2.0, 0.0, 0.5, 1.75, 2.25; quantile positions (I − 1)·q = 4·0.1 = 0.4 and 4·0.9 = 3.6
    Q(0.1) = −2.0 + 0.4·(0.0 − (−2.0)) = −1.2;  Q(0.9) = 1.75 + 0.6·(2.25 − 1.75) = 2.05
    winsorised z = −1.2, 0.5, 0.0, 1.75, 2.05
    z̃² = 1.44, 0.25, 0, 3.0625, 4.2025; Σ = 8.955; φ = 8.955/5 = 1.791
    unwinsorised Σz² = 4 + 0.25 + 0 + 3.0625 + 5.0625 = 12.375; mean 2.475
    w = 1/s² = n/0.16 = 625, 2500, 156.25, 100, 400; Σw = 3781.25
    Σw² = 390625 + 6250000 + 24414.0625 + 10000 + 160000 = 6835039.0625
    Σw²/Σw = 1807.613636;  Σw − Σw²/Σw = 1973.636364 (= 21710/11)
    τ² = (5·1.791 − 4)/1973.636364 = 4.955/1973.636364 = 0.00251059 (= 10901/4342000)
    additive 95 % limit at n = 100: 0.2 + 1.959964·sqrt(0.0016 + 0.00251059) = 0.2 + 1.959964·0.0641137 = 0.325661
    """
    fd = funnel_overdispersion(HAND_K, HAND_N, target=0.2, winsor=0.1)
    np.testing.assert_allclose(fd.units["z"], [-2.0, 0.5, 0.0, 1.75, 2.25], atol=1e-12)
    assert fd.z_low == pytest.approx(-1.2) and fd.z_high == pytest.approx(2.05)
    np.testing.assert_allclose(fd.units["z_winsorised"], [-1.2, 0.5, 0.0, 1.75, 2.05], atol=1e-12)
    assert fd.units["winsorised"].tolist() == [True, False, False, False, True]
    assert fd.phi == pytest.approx(1.791, rel=1e-12)
    assert fd.phi_unwinsorised == pytest.approx(2.475, rel=1e-12)
    assert fd.tau2 == pytest.approx(10901 / 4342000, rel=1e-12)
    assert fd.target_source == "given" and fd.n_units == 5
    # dispersion test with a given target: Σz² = 12.375 on I = 5 degrees of freedom
    assert fd.dispersion_p == pytest.approx(stats.chi2.sf(12.375, 5))
    lim = fd.limits([100], levels=(0.95,))
    assert lim.loc[0, "hi_additive"] == pytest.approx(0.325661, abs=1e-6)
    assert lim.loc[0, "hi"] == pytest.approx(0.2 + Z95 * 0.04)
    # multiplicative: 0.2 + 1.959964·sqrt(1.791·0.0016) = 0.2 + 1.959964·0.0535313
    assert lim.loc[0, "hi_multiplicative"] == pytest.approx(0.2 + Z95 * math.sqrt(1.791 * 0.0016))
    # adjusted z for unit 1: −0.08/sqrt(0.0016 + τ²)
    assert fd.units["z_additive"].iloc[0] == pytest.approx(-0.08 / math.sqrt(0.0016 + 10901 / 4342000))


def test_funnel_tau2_without_winsorisation_and_duplicated_data():
    """winsor = 0: φ = 2.475, τ² = (5·2.475 − 4)/1973.636364 = 8.375/1973.636364 = 0.00424344.

    Duplicating every unit keeps φ (a mean of z²) and Σw²/Σw (both sums double), doubles Σw:
    τ²_dup = (2Iφ − (2I − 1)) / (2Σw − Σw²/Σw) = (24.75 − 9)/(7562.5 − 1807.613636)
           = 15.75/5754.886364 = 0.00273680.
    So the DerSimonian–Laird τ² is not invariant to duplication with few units; it is
    nearly so with many (next test), where Σw²/Σw is small beside Σw.
    """
    fd = funnel_overdispersion(HAND_K, HAND_N, target=0.2, winsor=0.0)
    D = 21710 / 11
    assert fd.phi == pytest.approx(2.475) and fd.tau2 == pytest.approx(8.375 / D)
    dup = funnel_overdispersion(HAND_K * 2, HAND_N * 2, target=0.2, winsor=0.0)
    assert dup.phi == pytest.approx(fd.phi)
    assert dup.tau2 == pytest.approx(15.75 / (7562.5 - 79535 / 44), rel=1e-12)


def test_funnel_no_overdispersion_gives_tau2_zero():
    # every unit exactly on target: z = 0, φ = 0, τ² floored at 0
    fd = funnel_overdispersion([10, 20, 40], [100, 200, 400])
    assert fd.target == pytest.approx(0.1) and fd.phi == 0.0 and fd.tau2 == 0.0
    # binomial data: unwinsorised φ ≈ 1; 10 %-winsorised φ of normal z-scores is about 0.68
    # (E[min(|z|, 1.2816)²] = 0.8 − 2·1.2816·φ(1.2816) + 0.2·1.2816² = 0.350 + 0.329 = 0.679), τ² = 0
    rng = np.random.default_rng(11)
    n = rng.integers(200, 2000, 600)
    k = rng.binomial(n, 0.25)
    fd = funnel_overdispersion(k, n, target=0.25)
    assert fd.phi_unwinsorised == pytest.approx(1.0, abs=0.15)
    assert fd.phi == pytest.approx(0.68, abs=0.1)
    assert fd.tau2 == 0.0 and fd.dispersion_p > 0.001


def test_funnel_overdispersed_data_recovers_tau2():
    # unit rates drawn around 0.25 with between-unit sd 0.05 (τ² = 0.0025), large n
    rng = np.random.default_rng(5)
    n = rng.integers(2000, 5000, 800)
    theta = np.clip(rng.normal(0.25, 0.05, 800), 0.01, 0.99)
    k = rng.binomial(n, theta)
    fd = funnel_overdispersion(k, n)
    assert fd.target_source == "pooled"
    assert fd.phi > 5 and fd.dispersion_p < 1e-10
    # winsorising shrinks φ, so τ² is biased low; it stays in the right range
    assert 0.0012 < fd.tau2 < 0.003
    # with many units, duplicating the data barely moves τ² (without winsorisation,
    # whose type-7 quantiles shift slightly when the sample is duplicated)
    raw = funnel_overdispersion(k, n, winsor=0.0)
    dup = funnel_overdispersion(np.r_[k, k], np.r_[n, n], winsor=0.0)
    assert dup.tau2 == pytest.approx(raw.tau2, rel=0.01)


def test_funnel_overdispersion_excludes_zero_denominators_and_validates():
    fd = funnel_overdispersion(HAND_K + [0], HAND_N + [0], target=0.2)
    assert fd.n_units == 5 and fd.n_excluded == 1 and np.isnan(fd.units["z"].iloc[-1])
    assert fd.tau2 == pytest.approx(10901 / 4342000)
    with pytest.raises(ValueError, match="exactly 0"):
        funnel_overdispersion([0, 0], [10, 10])
    with pytest.raises(ValueError, match="two units"):
        funnel_overdispersion([1], [10])
    with pytest.raises(ValueError, match="winsor"):
        funnel_overdispersion(HAND_K, HAND_N, winsor=0.5)


def test_funnel_classify_positions():
    # p0 = 0.2, n = 100: exact 95 % limits about 0.125 and 0.28; 99.8 % about 0.095 and 0.33
    k = [20, 30, 35, 10, 5, 0]
    n = [100, 100, 100, 100, 100, 0]
    c = funnel_classify(k, n, 0.2, levels=(0.95, 0.998))
    assert c["position_0.95"].tolist()[:5] == ["within", "above", "above", "below", "below"]
    assert c["position_0.998"].tolist()[:5] == ["within", "within", "above", "within", "below"]
    assert c["position_0.95"].isna().tolist()[-1]
    # additive limits with a large τ² bring everyone within
    c2 = funnel_classify(k, n, 0.2, levels=(0.95,), method="additive", tau2=0.01)
    assert (c2["position_0.95"].iloc[:5] == "within").all()
    # normal limits agree with |z| > 1.96
    c3 = funnel_classify(k, n, 0.2, levels=(0.95,), method="normal")
    z = (np.array(k[:5]) / 100 - 0.2) / 0.04  # 0, 2.5, 3.75, −2.5, −3.75
    expected = np.where(z > Z95, "above", np.where(z < -Z95, "below", "within"))
    assert c3["position_0.95"].iloc[:5].tolist() == expected.tolist()
    with pytest.raises(ValueError, match="method"):
        funnel_classify(k, n, 0.2, method="bogus")


# --------------------------------------------------------------------------- empirical Bayes


def test_eb_method_of_moments_hand_example():
    """k = (2, 5, 8) of n = (10, 10, 10), method "mm".

    p = 0.5; X² = 7.2 (see test_pooled_hand_example); m − 1 = 2;
    N − Σn²/N − (m − 1) = 30 − 300/30 − 2 = 18
    ρ = (7.2 − 2)/18 = 5.2/18 = 13/45;  α + β = 45/13 − 1 = 32/13 = 2.461538;  α = β = 16/13 = 1.230769
    posterior mean of unit 1 = (16/13 + 2)/(32/13 + 10) = (42/13)/(162/13) = 42/162 = 0.259259
    shrinkage weight = (32/13)/(32/13 + 10) = 32/162 = 0.197531
    posterior of unit 1 = Beta(42/13, 16/13 + 8) = Beta(3.230769, 9.230769)
    """
    fit = eb_shrink([2, 5, 8], [10, 10, 10], method="mm")
    assert fit.alpha == pytest.approx(16 / 13) and fit.beta == pytest.approx(16 / 13)
    assert fit.prior_mean == pytest.approx(0.5) and fit.prior_size == pytest.approx(32 / 13)
    u = fit.units
    assert u["posterior_mean"].tolist() == pytest.approx([42 / 162, 0.5, 120 / 162])
    assert u["shrinkage"].iloc[0] == pytest.approx(32 / 162)
    assert u["ci_low"].iloc[0] == pytest.approx(stats.beta.ppf(0.025, 42 / 13, 16 / 13 + 8))
    assert u["ci_high"].iloc[0] == pytest.approx(stats.beta.ppf(0.975, 42 / 13, 16 / 13 + 8))
    assert not fit.no_overdispersion


def _simulated(seed=2024, m=300, a=2.0, b=18.0):
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 400, m)
    k = rng.binomial(n, rng.beta(a, b, m))
    return k, n


def test_eb_ml_recovers_prior_mean_and_is_a_maximum():
    k, n = _simulated()
    fit = eb_shrink(k, n, method="ml")
    assert fit.prior_mean == pytest.approx(0.1, abs=0.01)
    assert 10 < fit.prior_size < 40  # true α + β = 20
    assert not fit.no_overdispersion and fit.loglik > fit.loglik_binomial
    # the reported log-likelihood is scipy's and no nearby point is better
    ll = stats.betabinom.logpmf(k, n, fit.alpha, fit.beta).sum()
    assert fit.loglik == pytest.approx(ll)
    for da, db in [(1.02, 1), (0.98, 1), (1, 1.02), (1, 0.98), (1.02, 1.02), (0.98, 0.98)]:
        assert stats.betabinom.logpmf(k, n, fit.alpha * da, fit.beta * db).sum() <= ll + 1e-9
    # deterministic
    again = eb_shrink(k, n, method="ml")
    assert (again.alpha, again.beta) == (fit.alpha, fit.beta)
    # method of moments lands near the ML fit
    mm = eb_shrink(k, n, method="mm")
    assert mm.prior_mean == pytest.approx(fit.prior_mean, abs=0.005)
    assert mm.prior_size == pytest.approx(fit.prior_size, rel=0.35)


def test_eb_gradient_matches_finite_differences():
    k, n = _simulated(m=50)
    theta = np.log([1.7, 14.0])
    analytic = S._bb_negloglik(theta, k, n)[1]
    numeric = optimize.approx_fprime(theta, lambda t: S._bb_negloglik(t, k, n)[0], 1e-6)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("method", ["ml", "mm"])
def test_eb_shrinkage_properties(method):
    k, n = _simulated(seed=9, m=120)
    fit = eb_shrink(k, n, method=method)
    u = fit.units
    mu = fit.prior_mean
    lo_end = np.minimum(u.raw_rate, mu) - 1e-12
    hi_end = np.maximum(u.raw_rate, mu) + 1e-12
    assert ((u.posterior_mean >= lo_end) & (u.posterior_mean <= hi_end)).all()
    assert ((u.ci_low <= u.posterior_mean) & (u.posterior_mean <= u.ci_high)).all()
    # the shrinkage weight falls as n grows
    order = np.argsort(u.denominator.to_numpy(), kind="stable")
    w = u.shrinkage.to_numpy()[order]
    assert np.all(np.diff(w) <= 1e-15)
    # same raw rate, larger n: shrinks less
    two = eb_shrink(np.r_[k, 5, 50], np.r_[n, 10, 100], method=method).units.iloc[-2:]
    moved = (two.posterior_mean - two.raw_rate).abs()
    assert moved.iloc[1] < moved.iloc[0]


def test_eb_no_overdispersion_gives_complete_pooling():
    # identical rates: X² = 0, ρ = (0 − 2)/18 < 0 for mm; the ML maximum is at α + β → ∞
    for method in ("mm", "ml"):
        fit = eb_shrink([3, 3, 3], [10, 10, 10], method=method)
        assert fit.no_overdispersion and "complete pooling" in fit.note
        assert math.isinf(fit.alpha) and fit.prior_mean == pytest.approx(0.3)
        assert (fit.units.posterior_mean == 0.3).all()
        assert fit.units.ci_low.iloc[0] == pytest.approx(wilson(9, 30)[0])
    # binomial data: no crash, complete pooling or negligible shrinkage toward p
    rng = np.random.default_rng(1)
    n = rng.integers(50, 500, 200)
    k = rng.binomial(n, 0.1)
    fit = eb_shrink(k, n)
    assert fit.no_overdispersion
    # all zeros: pooled rate 0
    fit = eb_shrink([0, 0, 0], [5, 6, 7])
    assert fit.no_overdispersion and (fit.units.posterior_mean == 0).all()


def test_eb_units_without_denominator_get_the_prior():
    fit = eb_shrink([2, 5, 8, 0], [10, 10, 10, 0], method="mm")
    last = fit.units.iloc[-1]
    assert np.isnan(last.raw_rate) and last.posterior_mean == pytest.approx(0.5)
    assert last.ci_low == pytest.approx(stats.beta.ppf(0.025, 16 / 13, 16 / 13))
    assert fit.n_units == 3 and fit.n_excluded == 1
    with pytest.raises(ValueError, match="method"):
        eb_shrink([1, 2], [3, 4], method="bayes")
    with pytest.raises(ValueError, match="two units"):
        eb_shrink([1], [3])


# --------------------------------------------------------------------------- concentration


def test_gini_hand_values():
    # [0, 0, 0, 1]: Σ_i Σ_j |x_i − x_j| = 6, 2 n² x̄ = 2·16·0.25 = 8 → 0.75; corrected ·4/3 → 1
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert gini([0, 0, 0, 1], correction=True) == pytest.approx(1.0)
    # [1, 2, 3, 4]: pairwise |differences| over i < j: 1+2+3+1+2+1 = 10, ordered pairs 20;
    # 2 n² x̄ = 2·16·2.5 = 80 → 0.25; corrected 0.25·4/3 = 0.333333
    assert gini([4, 1, 3, 2]) == pytest.approx(0.25)
    assert gini([1, 2, 3, 4], correction=True) == pytest.approx(1 / 3)
    assert gini([7, 7, 7, 7]) == 0.0
    assert gini([5]) == 0.0


def test_lorenz_hand_values():
    # [1, 2, 3, 4], total 10: cumulative shares 0, 0.1, 0.3, 0.6, 1.0
    lz = lorenz([3, 1, 4, 2])
    assert lz["share_units"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert lz["share_total"].tolist() == pytest.approx([0, 0.1, 0.3, 0.6, 1.0])
    # area under the curve by trapezoids = (1/4)·(0 + 0.1 + 0.1 + 0.3 + 0.3 + 0.6 + 0.6 + 1)/2 = 0.375;
    # Gini = 1 − 2·0.375 = 0.25
    assert 1 - 2 * np.trapezoid(lz.share_total, lz.share_units) == pytest.approx(gini([1, 2, 3, 4]))


@pytest.mark.parametrize("bad, msg", [([1, -2, 3], ">= 0"), ([1, np.nan], "NaN"), ([], "empty"), ([0, 0], "sum to 0")])
def test_concentration_rejects_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        gini(bad)
    with pytest.raises(ValueError, match=msg):
        lorenz(bad)


def test_gini_correction_needs_two_values():
    with pytest.raises(ValueError, match="two"):
        gini([3], correction=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=40).filter(lambda v: sum(v) > 0))
def test_gini_properties(values):
    x = np.array(values, dtype=float)
    g = gini(x)
    n = x.size
    # the pairwise definition
    pair = np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())
    assert g == pytest.approx(pair, abs=1e-12)
    assert -1e-12 <= g <= 1 - 1 / n + 1e-12
    assert gini(3.5 * x) == pytest.approx(g, abs=1e-12)  # scale invariance
    lz = lorenz(x)
    assert lz.iloc[0].tolist() == [0.0, 0.0] and lz.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert (np.diff(lz.share_total) >= -1e-15).all()
    assert (lz.share_total <= lz.share_units + 1e-12).all()  # below the diagonal
    assert 1 - 2 * np.trapezoid(lz.share_total, lz.share_units) == pytest.approx(g, abs=1e-12)


# --------------------------------------------------------------------------- trends


def test_cochran_armitage_hand_example():
    """years 1, 2, 3; k = 1, 2, 6 of n = 10 each.

    p = 9/30 = 0.3; expected k = 3 each; T = Σ t (k − 3) = 1·(−2) + 2·(−1) + 3·3 = 5
    S_tt = Σ n t² − (Σ n t)²/N = 10·14 − 60²/30 = 140 − 120 = 20
    Var T = p (1 − p) S_tt = 0.21·20 = 4.2;  Z = 5/sqrt(4.2) = 5/2.0493902 = 2.4397502
    p = 2 Φ(−2.4397502) = 0.014697;  slope = T/S_tt = 0.25 per year
    """
    r = trend_test([1, 2, 3], [1, 2, 6], [10, 10, 10])
    assert r["statistic"] == pytest.approx(5 / math.sqrt(4.2), rel=1e-12)
    assert r["chi2"] == pytest.approx(25 / 4.2)
    assert r["p_value"] == pytest.approx(0.014697, abs=1e-6)
    assert r["slope"] == pytest.approx(0.25) and r["pooled_rate"] == pytest.approx(0.3)
    assert r["n_years"] == 3 and "too few" in r["note"]
    # scores shifted to calendar years: same test
    r2 = trend_test([2021, 2022, 2023], [1, 2, 6], [10, 10, 10])
    assert r2["statistic"] == pytest.approx(r["statistic"], rel=1e-9)


def test_cochran_armitage_equals_n_r_squared_and_logistic_score_test():
    years = np.array([2019, 2020, 2021, 2022, 2023])
    k = np.array([30, 41, 38, 55, 61])
    n = np.array([200, 210, 190, 230, 220])
    r = trend_test(years, k, n)
    assert r["n_years"] == 5 and r["note"] == ""
    # (1) Z² = N r² with r the Pearson correlation over the N individual requests
    x = np.repeat(years, n).astype(float)
    y = np.concatenate([np.r_[np.ones(a), np.zeros(b - a)] for a, b in zip(k, n)])
    rho = stats.pearsonr(x, y).statistic
    assert r["chi2"] == pytest.approx(n.sum() * rho**2, rel=1e-9)
    # (2) the score test of the slope in a logistic regression, from finite differences of its
    # log-likelihood at the null fit (intercept logit(p), slope 0): U² · [I⁻¹]_slope
    t = (years - 2021).astype(float)

    def loglik(a, b):
        eta = a + b * t
        return float(np.sum(k * eta - n * np.log1p(np.exp(eta))))

    p = k.sum() / n.sum()
    a0, h = math.log(p / (1 - p)), 1e-4
    u = (loglik(a0, h) - loglik(a0, -h)) / (2 * h)
    haa = (loglik(a0 + h, 0) - 2 * loglik(a0, 0) + loglik(a0 - h, 0)) / h**2
    hbb = (loglik(a0, h) - 2 * loglik(a0, 0) + loglik(a0, -h)) / h**2
    hab = (loglik(a0 + h, h) - loglik(a0 + h, -h) - loglik(a0 - h, h) + loglik(a0 - h, -h)) / (4 * h * h)
    info = -np.array([[haa, hab], [hab, hbb]])
    score_stat = u**2 * np.linalg.inv(info)[1, 1]
    assert r["chi2"] == pytest.approx(score_stat, rel=1e-4)
    assert r["p_value"] == pytest.approx(stats.chi2.sf(r["chi2"], 1), rel=1e-9)


def test_trend_test_edge_cases():
    r = trend_test([2020, 2021, 2022, 2023], [0, 0, 0, 0], [5, 6, 0, 7])
    assert r["n_dropped"] == 1 and r["n_years"] == 3 and np.isnan(r["statistic"]) and "exactly 0" in r["note"]
    r = trend_test([2020], [1], [4])
    assert np.isnan(r["p_value"]) and "fewer than two" in r["note"]
    with pytest.raises(ValueError, match="same length"):
        trend_test([1, 2], [1], [2, 2])


def test_count_trend_hand_example():
    """counts 10, 12, 15, 15, 20 over 2019–2023.

    S = 4 + 3 + 1 + 1 = 9 (one tied pair: 15, 15).
    τ_b = S / sqrt(n0 (n0 − n_ties)) = 9 / sqrt(10 · 9) = 0.948683.
    Pairwise slopes: 2, 2.5, 1.667, 2.5, 3, 1.5, 2.667, 0, 2.5, 5 → median (2.5 + 2.5)/2 = 2.5.
    """
    years, counts = [2019, 2020, 2021, 2022, 2023], [10, 12, 15, 15, 20]
    r = count_trend(years, counts)
    assert r["mk_s"] == 9 and r["n_years"] == 5 and r["note"] == ""
    assert r["tau"] == pytest.approx(9 / math.sqrt(90)) and r["statistic"] == r["tau"]
    assert r["p_value"] == pytest.approx(stats.kendalltau(years, counts).pvalue)
    assert r["slope"] == 2.5
    ts = stats.theilslopes(counts, years)
    assert (r["slope_low"], r["slope_high"]) == (ts.low_slope, ts.high_slope)
    assert r["slope_low"] <= r["slope"] <= r["slope_high"]


def test_count_trend_short_constant_and_missing():
    r = count_trend([2021, 2022, 2023], [5, 5, 5])
    assert np.isnan(r["tau"]) and r["slope"] == 0 and "constant" in r["note"] and "too few" in r["note"]
    r = count_trend([2020, 2021, 2022, 2023, 2024], [1, np.nan, 3, 4, 6])
    assert r["n_dropped"] == 1 and r["n_years"] == 4 and r["mk_s"] == 6
    r = count_trend([2020], [4])
    assert np.isnan(r["p_value"]) and "fewer than two" in r["note"]
