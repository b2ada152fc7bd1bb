"""What a bank recovers after a default: the disposal of the pledged patents and of other collateral.

Each defaulted loan goes through one channel (``scoring.vocab.DISPOSAL_CHANNELS``):

- a **negotiated transfer** (协议转让) to a buyer, at a share of what the patents are worth to him;
- a **judicial auction**: the first reserve is 70% of a court appraisal, each failed round (流拍)
  cuts it by 20%, and after the last round the disposal fails;
- an **exchange listing**, rounds like an auction from the full appraisal;
- **licensing** instead of a sale: capitalised licence income;
- **acquisition** (收储) by a government fund or platform at a set share of the appraisal.

The market moves with the economy and the industry: the real GDP growth last published on the
default date (``scoring/config/economy.yaml``) shifts the value to a buyer and the odds that a
bidder, a negotiated buyer or a licensee shows up; the borrower's industry sets how deep the
market for its patents is.  Costs are paid whether or not the sale succeeds; other collateral
recovers a share of the part of the exposure it secures.  The realised LGD discounts the net
recovery at the loan's own rate over the months from default to cash.  Every parameter is in :class:`DisposalParams`.
"""

from __future__ import annotations

import numpy as np

from scoring.vocab import DISPOSAL_CHANNELS, INDUSTRIES
from scoring.vocab.arrays import AnyArray, BoolArray, FloatArray, IndexArray
from training.synth.params import DisposalParams
from training.synth.sampling import lookup, pick_rows, sigmoid, weights

NEGOTIATED, AUCTION, LISTING, LICENSING, ACQUISITION = (
    DISPOSAL_CHANNELS.index(c)
    for c in ("negotiated_transfer", "judicial_auction", "exchange_listing", "licensing", "acquisition")
)


def exposure_at_default(p: DisposalParams, amount: FloatArray, rate: FloatArray) -> FloatArray:
    """EAD (CNY): the principal (bullet) plus the interest unpaid by the 90th day past due."""
    return np.asarray(amount * (1.0 + rate * p.accrued_interest_months / 12.0), dtype=np.float64)


def _shifted(prob: float, shift: FloatArray) -> FloatArray:
    """``prob`` moved by ``shift`` on the logit scale."""
    return sigmoid(np.log(prob / (1.0 - prob)) + shift)


def _rounds(
    rng: np.random.Generator, p: DisposalParams, *, buyer: FloatArray, start: FloatArray, show: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Rounds held and price (NaN when every round failed) of an auction starting at ``start``."""
    n = len(buyer)
    price = np.full(n, np.nan)
    rounds = np.zeros(n)
    for k in range(p.max_auction_rounds):
        reserve = start * (1.0 - p.round_price_cut) ** k
        open_ = np.isnan(price)
        rounds = np.where(open_, k + 1.0, rounds)
        sold = open_ & (rng.random(n) < show) & (buyer >= reserve)
        # A lone bidder pays the reserve; competition adds a little.
        price = np.where(sold, reserve * (1.0 + 0.1 * rng.random(n)), price)
    return rounds, price


def simulate_disposals(
    rng: np.random.Generator,
    p: DisposalParams,
    *,
    ead: FloatArray,
    rate: FloatArray,
    value_at_default: FloatArray,
    ip_share: FloatArray,
    pooled: BoolArray,
    growth: FloatArray,
    industry: IndexArray,
) -> dict[str, AnyArray]:
    """One disposal per row: channel, rounds, months to cash, price, costs, net recovery and LGD.

    Parameters
    ----------
    ead
        Exposure at default, CNY.
    rate
        The loan's nominal annual rate (discounts the recovery).
    value_at_default
        True value of the pledged patents on the default date, CNY.
    ip_share
        IP share of the collateral; the rest is other collateral.
    pooled
        The loan is in a fund's pool (收储 is likelier there).
    growth
        Real GDP growth (%) last published on the default date (:func:`scoring.economy.growth_on`).
    industry
        The borrower's industry (index into ``scoring.vocab.INDUSTRIES``).

    Returns
    -------
    dict
        ``channel`` (index), ``auction_rounds`` (NaN outside auctions and listings),
        ``months`` to cash, ``price_cny`` (NaN on failure), ``costs_cny``,
        ``recovery_cny`` (net, capped at EAD) and ``lgd`` (discounted, 0..1).
    """
    n = len(ead)
    mix = weights(p.channel_mix, DISPOSAL_CHANNELS)
    boosted = mix * np.where(np.arange(len(mix)) == ACQUISITION, 2.0, 1.0)
    probs = np.where(pooled[:, None], boosted / boosted.sum(), mix)
    channel = pick_rows(rng, probs)
    appraisal = value_at_default * np.exp(p.court_appraisal_log_sd * rng.standard_normal(n))
    cycle = np.asarray(growth, dtype=np.float64) - p.economy_reference_growth
    market = p.buyer_value_per_growth_point * cycle + lookup(p.buyer_value_by_industry, INDUSTRIES)[industry]
    buyer = value_at_default * p.buyer_value_median * np.exp(market + p.buyer_value_log_sd * rng.standard_normal(n))
    odds = p.success_logit_per_growth_point * cycle
    show = _shifted(p.bidder_show_prob, odds)
    auction_rounds, auction_price = _rounds(rng, p, buyer=buyer, start=p.auction_start_share * appraisal, show=show)
    listing_rounds, listing_price = _rounds(rng, p, buyer=buyer, start=appraisal, show=show)
    lo, hi = p.negotiated_price_range
    found = rng.random(n) < _shifted(p.negotiated_success, odds)
    negotiated = np.where(found, buyer * (lo + (hi - lo) * rng.random(n)), np.nan)
    licensed = np.where(rng.random(n) < _shifted(p.licensing_success, odds), buyer * p.licensing_value_share, np.nan)
    a_lo, a_hi = p.acquisition_price_range
    acquired = np.where(
        rng.random(n) < p.acquisition_success, appraisal * (a_lo + (a_hi - a_lo) * rng.random(n)), np.nan
    )
    price = np.choose(channel, [negotiated, auction_price, listing_price, licensed, acquired])
    rounds = np.choose(channel, [np.nan, auction_rounds, listing_rounds, np.nan, np.nan])
    m_lo = np.array([p.months_to_cash[c][0] for c in DISPOSAL_CHANNELS])[channel]
    m_hi = np.array([p.months_to_cash[c][1] for c in DISPOSAL_CHANNELS])[channel]
    months = m_lo + (m_hi - m_lo) * rng.random(n) + p.months_per_round * np.nan_to_num(rounds - 1.0)
    fixed = np.array([p.fixed_cost_cny[c] for c in DISPOSAL_CHANNELS])[channel]
    share = np.array([p.cost_share[c] for c in DISPOSAL_CHANNELS])[channel]
    costs = fixed + share * np.nan_to_num(price)
    o_lo, o_hi = p.other_collateral_recovery
    other = ead * (1.0 - ip_share) * (o_lo + (o_hi - o_lo) * rng.random(n))
    recovery = np.clip(np.nan_to_num(price) + other - costs, 0.0, ead)
    discounted = recovery / (1.0 + rate) ** (months / 12.0)
    return {
        "channel": channel,
        "auction_rounds": rounds,
        "months": months,
        "price_cny": price,
        "costs_cny": costs,
        "recovery_cny": recovery,
        "lgd": np.clip(1.0 - discounted / ead, 0.0, 1.0),
    }


def expected_lgd(
    rng: np.random.Generator,
    p: DisposalParams,
    *,
    ead: FloatArray,
    rate: FloatArray,
    value_at_default: FloatArray,
    ip_share: FloatArray,
    pooled: BoolArray,
    growth: FloatArray,
    industry: IndexArray,
) -> FloatArray:
    """The oracle's LGD: the mean discounted LGD over ``p.oracle_draws`` simulated disposals of each loan."""
    k = p.oracle_draws
    sims = simulate_disposals(
        rng,
        p,
        ead=np.tile(ead, k),
        rate=np.tile(rate, k),
        value_at_default=np.tile(value_at_default, k),
        ip_share=np.tile(ip_share, k),
        pooled=np.tile(pooled, k),
        growth=np.tile(growth, k),
        industry=np.tile(industry, k),
    )
    return np.asarray(sims["lgd"].reshape(k, len(ead)).mean(axis=0), dtype=np.float64)
