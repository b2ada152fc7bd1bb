"""Model monitoring: PSI between training reference and recent traffic; PD performance on outcomes."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score
from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from scoring.drift import PSI_ACT, PSI_WATCH, bin_shares, psi, psi_band
from scoring.grades import GradeScale
from scoring.models import LoadedModel
from service.db.regulator_tables import FeatureSnapshot, LoanOutcome
from service.db.tables import Loan
from service.schemas.regulator import DriftReport, FeatureDrift, GradeRow, PerformanceReport

MIN_ROWS = 50  # below this, PSI over ten bins is mostly noise
# PSI over ten bins is precise to about ±0.005 with 20,000 rows; reading more only costs time. The
# background monitor shares the interpreter with requests: at 48,000 rows a run held it for 1.0-1.6 s.
MAX_ROWS = 20_000


def drift_report(session: Session, model: LoadedModel, *, days: int, now: datetime) -> DriftReport:
    """PSI per input and for the score, training reference against the ``days`` of traffic before ``now``."""
    since = now - timedelta(days=days)
    window = (col(FeatureSnapshot.model) == model.name, col(FeatureSnapshot.created_at) >= since)
    # The inputs come back as their JSON text and are parsed in one call: per-row JSON
    # processing cost 17 µs a row, most of a run.
    rows = session.exec(
        select(cast(FeatureSnapshot.x, String), FeatureSnapshot.score)
        .where(*window)
        .order_by(col(FeatureSnapshot.created_at).desc())
        .limit(MAX_ROWS)
    ).all()
    sampled = None
    if len(rows) == MAX_ROWS:
        total = session.exec(select(func.count()).select_from(FeatureSnapshot).where(*window)).one()
        sampled = f"PSI over the most recent {MAX_ROWS:,} of {total:,} rows in the window" if total > MAX_ROWS else None
    reference: dict[str, Any] = (model.manifest.get("extra") or {}).get("reference") or {}
    base = {"model": model.name, "version": model.version, "since": since, "rows": len(rows)}
    if len(rows) < MIN_ROWS or not reference:
        return DriftReport(
            **base,
            score_psi=None,
            score_band=None,
            features=[],
            alert=False,
            watch=[],
            note=f"need at least {MIN_ROWS} scored rows (have {len(rows)}) and a training reference",
        )
    x = _input_matrix([r[0] for r in rows])
    scores = np.array([r[1] for r in rows], dtype=float)
    features = []
    for j, name in enumerate(model.feature_names):
        ref = reference["features"].get(name)
        if ref is None or j >= x.shape[1]:
            continue
        value = psi(ref["shares"], bin_shares(x[:, j], ref["edges"]))
        features.append(FeatureDrift(feature=name, psi=value, band=psi_band(value)))
    ref = reference["score"]
    score_psi = psi(ref["shares"], bin_shares(scores, ref["edges"]))
    values = [f.psi for f in features] + [score_psi]
    return DriftReport(
        **base,
        score_psi=score_psi,
        score_band=psi_band(score_psi),
        features=features,
        alert=max(values) > PSI_ACT,
        watch=[f.feature for f in features if PSI_WATCH <= f.psi <= PSI_ACT],
        note=sampled,
    )


def _input_matrix(texts: list[str], *, chunk: int = 2_000) -> np.ndarray:
    """Rows of stored model inputs (JSON arrays of numbers, null for missing) as a float matrix, NaN for missing.

    Parsed ``chunk`` rows per ``json.loads`` call: one call holds the interpreter
    lock throughout (150 ms for 20,000 rows), which would stall every request
    of the service meanwhile; 2,000 rows take about 15 ms.
    """
    rows: list[list[float]] = []
    for start in range(0, len(texts), chunk):
        # Only numbers and nulls inside, so null -> NaN (which json reads) is a safe textual swap.
        rows += json.loads("[" + ",".join(texts[start : start + chunk]).replace("null", "NaN") + "]")
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):  # older versions with fewer inputs
        rows = [r + [math.nan] * (width - len(r)) for r in rows]
    return np.array(rows, dtype=float)


def _labelled_loans(session: Session, as_of: date) -> list[tuple[float, bool]]:
    """(PD at origination, defaulted within 12 months) of loans whose 12-month outcome is known."""
    outcomes: dict[str, list[LoanOutcome]] = {}
    for o in session.exec(select(LoanOutcome)).all():
        outcomes.setdefault(o.loan_id, []).append(o)
    out = []
    for loan in session.exec(select(Loan).where(col(Loan.pd).is_not(None))).all():
        reports = outcomes.get(loan.id)
        if not reports or loan.pd is None:
            continue
        horizon = loan.origination_date + timedelta(days=365)
        defaulted = any(
            o.status == "default" and o.default_date is not None and o.default_date <= horizon for o in reports
        )
        matured = any(o.status == "repaid" for o in reports) or as_of >= horizon
        if defaulted or matured:
            out.append((loan.pd, defaulted))
    return out


def performance_report(session: Session, scale: GradeScale, *, as_of: date) -> PerformanceReport:
    """Realised default rate by grade against the expected rate (binomial test), and AUC."""
    data = _labelled_loans(session, as_of)
    if not data:
        return PerformanceReport(
            loans=0, defaults=0, auc=None, by_grade=[], note="no matured loans with reported outcomes yet"
        )
    pds = np.array([d[0] for d in data])
    y = np.array([d[1] for d in data], dtype=float)
    idx = scale.indices(pds)
    rows = []
    for i, g in enumerate(scale.grades):
        m = idx == i
        n, k = int(m.sum()), int(y[m].sum())
        rows.append(
            GradeRow(
                grade=g.grade,
                loans=n,
                defaults=k,
                expected_rate=g.expected_default_rate,
                realised_rate=k / n if n else None,
                binomial_p_value=float(binomtest(k, n, g.expected_default_rate).pvalue) if n else None,
            )
        )
    auc = float(roc_auc_score(y, pds)) if 0 < y.sum() < len(y) else None
    return PerformanceReport(
        loans=len(data),
        defaults=int(y.sum()),
        auc=auc,
        by_grade=rows,
        note=None if auc is not None else "AUC needs both defaults and non-defaults",
    )
