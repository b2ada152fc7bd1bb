"""Turn the generator's arrays into contract-shaped frames (ids, labels, dates)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scoring import vocab
from scoring.patent_ids import application_number
from scoring.vocab.arrays import AnyArray, DateArray, FloatArray, IndexArray, ObjectArray
from training.contract import TABLES
from training.synth.loans import FUNDS, bank_ids

# A frame column: a numpy array, or a pandas extension array where numpy has no type for it
# (whole numbers with gaps: the claims of designs).
FrameColumn = AnyArray | pd.api.extensions.ExtensionArray


def _ids(prefix: str, count: int, width: int) -> ObjectArray:
    """``prefix`` + 1-based serial numbers, zero-padded to ``width``."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def _labels(vocab: tuple[str, ...], idx: NDArray[np.integer[Any]]) -> ObjectArray:
    """Vocabulary labels; negative indices become None."""
    return np.take(np.asarray((*vocab, None), dtype=np.object_), np.where(idx < 0, len(vocab), idx))


def _dates(values: DateArray) -> DateArray:
    """Whole days, as the nanosecond dates pandas stores."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.dtype("datetime64[ns]"))


def _patent_ids(pat: dict[str, AnyArray]) -> ObjectArray:
    """CNIPA application numbers with their check digits: filing date, type digit, serial.

    Serials count per filing year and type, so every patent has its own number
    and the 8-digit form (filed before October 2003) stays within its 5 digits.
    """
    filed = pat["filing_date"].astype("datetime64[D]").tolist()
    kinds = [vocab.PATENT_TYPES[k] for k in pat["patent_type"].tolist()]
    serials: Counter[tuple[int, str]] = Counter()
    ids: list[str] = []
    for day, kind in zip(filed, kinds, strict=True):
        serials[day.year, kind] += 1
        ids.append(application_number(day, kind, serials[day.year, kind]))
    return np.array(ids, dtype=object)


def _owner_ids(pat: dict[str, AnyArray], ent_ids: ObjectArray) -> ObjectArray:
    kind = pat["owner_type"]
    owner = np.take(ent_ids, pat["owner_enterprise"])
    for label, prefix in (("university", "univ"), ("research_institute", "inst"), ("individual", "person")):
        mask = kind == vocab.OWNER_TYPES.index(label)
        owner[mask] = [f"{prefix}_{i:03d}" for i in pat["owner_serial"][mask].tolist()]
    return owner


def build_frames(
    *,
    ent: dict[str, AnyArray],
    orig: DateArray,
    borrower: IndexArray,
    terms: dict[str, AnyArray],
    loan_of: IndexArray,
    pat: dict[str, AnyArray],
    prices: dict[str, AnyArray],
    out: dict[str, AnyArray],
    truth: dict[str, AnyArray],
    claims: dict[str, AnyArray],
    n_banks: int,
) -> dict[str, pd.DataFrame]:
    """Contract frames (and truth frames) from the generator's column arrays.

    Categoricals arrive as vocabulary indices (-1 = missing), dates as
    datetime64[D]; ``borrower``/``loan_of``/``claims["loan"]`` are row indices
    linking loans to enterprises, patents to loans and claims to loans.
    """
    n_loans, n_ent, n_claims = len(orig), len(ent["industry"]), len(claims["loan"])
    ent_ids = _ids("E", n_ent, 6)
    loan_ids = _ids("L", n_loans, 7)
    patent_ids = _patent_ids(pat)
    claim_ids = _ids("C", n_claims, 6)
    banks = bank_ids(n_banks)
    frames: dict[str, dict[str, FrameColumn]] = {
        "enterprises": {
            "enterprise_id": ent_ids,
            "industry": _labels(vocab.INDUSTRIES, ent["industry"]),
            "region": _labels(vocab.REGIONS, ent["region"]),
            **{k: ent[k] for k in TABLES["enterprises"].column_names[3:]},
        },
        "loans": {
            "loan_id": loan_ids,
            "enterprise_id": ent_ids[borrower],
            "bank_id": banks[terms["bank"]],
            "amount_cny": terms["amount_cny"],
            "tenor_months": terms["tenor_months"],
            "annual_rate": terms["annual_rate"],
            "purpose": _labels(vocab.LOAN_PURPOSES, terms["purpose"]),
            "origination_date": _dates(orig),
            **{
                k: terms[k] for k in ("appraised_value_cny", "ltv", "ip_share_of_collateral", "insured_share", "pooled")
            },
            "fund_id": _labels(FUNDS, terms["fund"]),
        },
        "loan_patents": {"loan_id": loan_ids[loan_of], "patent_id": patent_ids},
        "patents": _patent_columns(pat, prices, patent_ids, ent_ids),
        "outcomes": _outcome_columns(loan_ids, out, truth),
        "claims": {
            "claim_id": claim_ids,
            "loan_id": loan_ids[claims["loan"]],
            "fund_id": _labels(FUNDS, terms["fund"][claims["loan"]]),
            "bank_id": banks[claims["bank"]],
            "filing_date": _dates(claims["filing_date"]),
            **{
                k: claims[k]
                for k in (
                    "principal_outstanding_cny",
                    "claimed_amount_cny",
                    "working_days_to_file",
                    "evidence_provided",
                    "patent_pledged_elsewhere",
                    "bank_prior_claims",
                )
            },
            "review_source": _labels(vocab.CLAIM_SOURCES, claims["review_source"]),
            "review_irregular": claims["review_irregular"],
        },
        "patents_truth": {
            "patent_id": patent_ids,
            "true_quality": pat["quality"],
            "true_value_cny": prices["true_value_cny"],
        },
        "loans_truth": {
            "loan_id": loan_ids,
            "true_pd": truth["true_pd_12m"],
            "true_pd_12m": truth["true_pd_12m"],
            "true_pd_tenor": truth["true_pd_tenor"],
            "true_lgd": truth["true_lgd"],
        },
        "claims_truth": {
            "claim_id": claim_ids,
            "true_irregular": claims["true_irregular"],
            "true_irregular_prob": claims["true_irregular_prob"],
        },
    }
    return {name: pd.DataFrame(cols, columns=TABLES[name].column_names) for name, cols in frames.items()}


def _outcome_columns(
    loan_ids: ObjectArray, out: dict[str, AnyArray], truth: dict[str, AnyArray]
) -> dict[str, FrameColumn]:
    """Outcomes: default facts for every loan, the disposal's for every finished one (else empty)."""
    done = truth["done"]

    def when_done(values: FloatArray) -> FloatArray:
        return np.where(done, values, np.nan)

    rounds = when_done(truth["auction_rounds"])
    return {
        "loan_id": loan_ids,
        "default_12m": out["default_12m"],
        "days_past_due": out["days_past_due"],
        "npl_class": _labels(vocab.NPL_CLASSES, out["npl_class"]),
        "default_date": _dates(out["default_date"]),
        "observed_until": _dates(out["observed_until"]),
        "disposal_price_cny": np.round(when_done(truth["price_cny"]), -2),
        "ead_cny": truth["ead"],
        "disposal_channel": _labels(vocab.DISPOSAL_CHANNELS, np.where(done, truth["channel"], -1)),
        "auction_rounds": pd.array(rounds, dtype="Float64").astype("Int64"),
        "disposal_date": _dates(truth["disposal_date"]),
        "disposal_costs_cny": np.round(when_done(truth["costs_cny"]), 2),
        "recovery_cny": np.round(when_done(truth["recovery_cny"]), 2),
        "realised_lgd": np.round(when_done(truth["lgd"]), 6),
    }


def _patent_columns(
    pat: dict[str, AnyArray],
    prices: dict[str, AnyArray],
    patent_ids: ObjectArray,
    ent_ids: ObjectArray,
) -> dict[str, FrameColumn]:
    cols: dict[str, FrameColumn] = {
        "patent_id": patent_ids,
        "patent_type": _labels(vocab.PATENT_TYPES, pat["patent_type"]),
        "ipc_section": _labels(vocab.IPC_SECTIONS, pat["ipc_section"]),
        "tech_field": _labels(vocab.TECH_FIELDS, pat["tech_field"]),
        "industry": _labels(vocab.INDUSTRIES, pat["industry"]),
        "filing_date": _dates(pat["filing_date"]),
        "grant_date": _dates(pat["grant_date"]),
        "legal_status": _labels(vocab.LEGAL_STATUSES, pat["legal_status"]),
        "owner_type": _labels(vocab.OWNER_TYPES, pat["owner_type"]),
        "owner_id": _owner_ids(pat, ent_ids),
        "observed_price_cny": prices["observed_price_cny"],
        "price_source": _labels(vocab.PRICE_SOURCES, prices["price_source"]),
        "price_date": _dates(prices["price_date"]),
    }
    for name in ("claims_count", "independent_claims"):  # whole numbers, empty for designs
        cols[name] = pd.array(pat[name], dtype="Float64").astype("Int64")
    for name in TABLES["patents"].column_names:
        if name not in cols:
            cols[name] = pat[name]
    return cols
