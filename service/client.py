"""A typed, synchronous Python client for the iprisk API (httpx).

    with IpriskClient("http://127.0.0.1:8000", api_key=key) as c:
        a = c.assess(AssessmentRequest(...))
        print(a.pd, a.grade, [r.text for r in a.reasons])

Errors are exceptions named after what went wrong, carrying the server's
``error``, ``detail``, ``field`` and, on request validation, ``errors``::

    ClientError
    ├── TransportError        the server could not be reached or timed out
    └── ApiError              the server answered with an error status
        ├── AuthenticationError   401
        ├── PermissionDenied      403
        ├── NotFoundError         404
        ├── ConflictError         409
        ├── ValidationFailed      422
        └── ServerError           5xx

Every write is sent with an ``Idempotency-Key`` generated for that call (or
the one you pass as ``idempotency_key``) and reused on the client's own
retries: a dropped connection, a timeout or a 503 is retried up to
``retries`` times, and the server answers a retry of a request it already
carried out with the stored answer instead of doing it again.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from service.schemas.book import NplRatioCreate, NplRatioPublic, RepaymentCreate, RepaymentPublic
from service.schemas.claims import (
    ClaimCreate,
    ClaimPage,
    ClaimPublic,
    EvidenceCreate,
    PoolLoanCreate,
    PoolLoanPage,
    PoolLoanPublic,
    RecoveryCreate,
    RecoveryPublic,
)
from service.schemas.claims import RepaymentCreate as PoolRepaymentCreate
from service.schemas.disposals import DisposalOpen, DisposalPublic, DisposalStepCreate
from service.schemas.events import EventCreate, EventPublic
from service.schemas.funds import (
    BalancePublic,
    BankAgreement,
    BankPublic,
    CorrectionCreate,
    CorrectionPublic,
    DepositCreate,
    FundCreate,
    FundPublic,
    LedgerPage,
    RuleVersionCreate,
    RuleVersionPublic,
)
from service.schemas.insurance import QuoteRequest, QuoteResponse
from service.schemas.loans import LoanCreate, LoanPublic
from service.schemas.pledges import DisposalReport, RegistrationChange, RegistrationCreate, ReleaseRequest
from service.schemas.regulator import (
    AuditCheck,
    AuditCheckpoint,
    DriftReport,
    FundStatistics,
    ModelCard,
    ModelInventory,
    OutcomeCreate,
    OutcomePublic,
    PerformanceReport,
    PortfolioReport,
)
from service.schemas.scoring import (
    AssessmentRequest,
    AssessmentResponse,
    BatchResponse,
    Page,
    ValuationRequest,
    ValuationResponse,
)
from service.schemas.subsidies import (
    ApplicationCreate,
    ApplicationPublic,
    ProgrammeVersionCreate,
    ProgrammeVersionPublic,
    SubsidyStatistics,
)
from service.schemas.transactions import TransactionCreate, TransactionPublic, TurnoverCreate, TurnoverPublic
from service.schemas.watch import AlertAck, AlertPage, AlertPublic, LoanWatch

T = TypeVar("T", bound=BaseModel)


class ClientError(Exception):
    """Base of every client error."""


class TransportError(ClientError):
    """No usable answer: connection refused, timeout, broken response."""


class ApiError(ClientError):
    """The server answered with an error status."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.error = str(body.get("error", "Error"))
        self.detail = str(body.get("detail", ""))
        self.field = body.get("field")
        # every problem found, each {"field", "problem", "type"} (request validation only)
        self.errors: list[dict[str, Any]] = list(body.get("errors") or [])
        self.body = body
        super().__init__(f"{status} {self.error}: {self.detail}")


class AuthenticationError(ApiError):
    """401: missing, unknown or revoked key."""


class PermissionDenied(ApiError):
    """403: the key's role may not do this."""


class NotFoundError(ApiError):
    """404: no such record for this institution."""


class ConflictError(ApiError):
    """409: clashes with stored state."""


class ValidationFailed(ApiError):
    """422: a field is invalid; ``field`` names it."""


class ServerError(ApiError):
    """5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationFailed,
}


IDEMPOTENCY_KEY = "Idempotency-Key"


def new_idempotency_key() -> str:
    """A fresh key for one logical write."""
    return str(uuid.uuid4())


class IpriskClient:
    """Synchronous client with timeouts, typed requests and responses, and idempotent retries of writes."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 10.0,
        lang: Literal["en", "zh"] = "en",
        transport: httpx.BaseTransport | None = None,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "Accept-Language": lang},
        )
        self.retries, self.backoff = retries, backoff

    def __enter__(self) -> IpriskClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send a request; return the decoded JSON or raise the matching error.

        A read, or a write carrying an ``Idempotency-Key``, is sent again (same key) after a transport
        error or a 503, up to ``retries`` times; any other write is sent once.
        """
        repeatable = method == "GET" or IDEMPOTENCY_KEY in (headers or {})
        for attempt in range(self.retries + 1 if repeatable else 1):
            last = attempt == self.retries or not repeatable
            try:
                resp = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                if last:
                    raise TransportError(f"{method} {path}: {exc!r}") from exc
                time.sleep(self.backoff * 2**attempt)
                continue
            if resp.status_code != 503 or last:
                break
            time.sleep(min(float(resp.headers.get("Retry-After") or 0) or self.backoff * 2**attempt, 5.0))
        return self._decode(resp)

    @staticmethod
    def _decode(resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"error": "HTTPError", "detail": resp.text[:500]}
            cls = ServerError if resp.status_code >= 500 else _BY_STATUS.get(resp.status_code, ApiError)
            raise cls(resp.status_code, body if isinstance(body, dict) else {"detail": str(body)})
        return resp.json() if resp.content else None

    def _send(
        self, method: str, path: str, out: type[T], body: BaseModel | dict[str, Any] | None = None, **kw: Any
    ) -> T:
        payload = body.model_dump(mode="json", exclude_unset=True) if isinstance(body, BaseModel) else body
        return out.model_validate(self.request(method, path, json=payload, **kw))

    def _write(
        self, path: str, out: type[T], body: BaseModel | dict[str, Any] | None = None, *, key: str | None = None
    ) -> T:
        """POST with an Idempotency-Key: ``key``, or a new one for this call (reused on its retries)."""
        return self._send("POST", path, out, body, headers={IDEMPOTENCY_KEY: key or new_idempotency_key()})

    def value(self, req: ValuationRequest | dict[str, Any], *, idempotency_key: str | None = None) -> ValuationResponse:
        """POST /v1/valuations."""
        return self._write("/v1/valuations", ValuationResponse, req, key=idempotency_key)

    def get_valuation(self, valuation_id: str) -> ValuationResponse:
        """GET /v1/valuations/{id}."""
        return self._send("GET", f"/v1/valuations/{valuation_id}", ValuationResponse)

    def list_valuations(
        self, *, since: date | None = None, until: date | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        """GET /v1/valuations."""
        return self._send("GET", "/v1/valuations", Page, params=_page(since, until, limit, offset))

    def assess(
        self, req: AssessmentRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> AssessmentResponse:
        """POST /v1/assessments."""
        return self._write("/v1/assessments", AssessmentResponse, req, key=idempotency_key)

    def assess_batch(
        self, items: list[AssessmentRequest | dict[str, Any]], *, idempotency_key: str | None = None
    ) -> BatchResponse:
        """POST /v1/assessments/batch."""
        body = {
            "items": [i.model_dump(mode="json", exclude_unset=True) if isinstance(i, BaseModel) else i for i in items]
        }
        return self._write("/v1/assessments/batch", BatchResponse, body, key=idempotency_key)

    def get_assessment(self, assessment_id: str) -> AssessmentResponse:
        """GET /v1/assessments/{id}."""
        return self._send("GET", f"/v1/assessments/{assessment_id}", AssessmentResponse)

    def list_assessments(
        self, *, since: date | None = None, until: date | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        """GET /v1/assessments."""
        return self._send("GET", "/v1/assessments", Page, params=_page(since, until, limit, offset))

    def quote(self, req: QuoteRequest | dict[str, Any], *, idempotency_key: str | None = None) -> QuoteResponse:
        """POST /v1/insurance/quotes."""
        return self._write("/v1/insurance/quotes", QuoteResponse, req, key=idempotency_key)

    def get_quote(self, quote_id: str) -> QuoteResponse:
        """GET /v1/insurance/quotes/{id}."""
        return self._send("GET", f"/v1/insurance/quotes/{quote_id}", QuoteResponse)

    def book_loan(self, req: LoanCreate | dict[str, Any], *, idempotency_key: str | None = None) -> LoanPublic:
        """POST /v1/loans."""
        return self._write("/v1/loans", LoanPublic, req, key=idempotency_key)

    def get_loan(self, loan_id: str) -> LoanPublic:
        """GET /v1/loans/{id}."""
        return self._send("GET", f"/v1/loans/{loan_id}", LoanPublic)

    def close_loan(self, loan_id: str, *, idempotency_key: str | None = None) -> LoanPublic:
        """POST /v1/loans/{id}/close."""
        return self._write(f"/v1/loans/{loan_id}/close", LoanPublic, key=idempotency_key)

    def record_registrations(
        self, loan_id: str, req: RegistrationCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> LoanPublic:
        """POST /v1/loans/{id}/registrations."""
        return self._write(f"/v1/loans/{loan_id}/registrations", LoanPublic, req, key=idempotency_key)

    def change_registration(
        self,
        loan_id: str,
        patent_id: str,
        req: RegistrationChange | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> LoanPublic:
        """POST /v1/loans/{id}/registrations/{patent_id}/changes."""
        path = f"/v1/loans/{loan_id}/registrations/{patent_id}/changes"
        return self._write(path, LoanPublic, req, key=idempotency_key)

    def report_disposal(
        self, loan_id: str, req: DisposalReport | dict[str, Any], *, idempotency_key: str | None = None
    ) -> LoanPublic:
        """POST /v1/loans/{id}/disposal."""
        return self._write(f"/v1/loans/{loan_id}/disposal", LoanPublic, req, key=idempotency_key)

    def release_loan(
        self, loan_id: str, req: ReleaseRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> LoanPublic:
        """POST /v1/loans/{id}/release."""
        return self._write(f"/v1/loans/{loan_id}/release", LoanPublic, req, key=idempotency_key)

    def report_outcome(
        self, req: OutcomeCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> OutcomePublic:
        """POST /v1/outcomes."""
        return self._write("/v1/outcomes", OutcomePublic, req, key=idempotency_key)

    def report_repayment(
        self, loan_id: str, req: RepaymentCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> RepaymentPublic:
        """POST /v1/loans/{id}/repayments."""
        return self._write(f"/v1/loans/{loan_id}/repayments", RepaymentPublic, req, key=idempotency_key)

    def report_npl_ratio(
        self, req: NplRatioCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> NplRatioPublic:
        """POST /v1/banks/npl-ratios."""
        return self._write("/v1/banks/npl-ratios", NplRatioPublic, req, key=idempotency_key)

    def register_transaction(
        self, req: TransactionCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> TransactionPublic:
        """POST /v1/transactions."""
        return self._write("/v1/transactions", TransactionPublic, req, key=idempotency_key)

    def report_turnover(
        self, req: TurnoverCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> TurnoverPublic:
        """POST /v1/transactions/turnover."""
        return self._write("/v1/transactions/turnover", TurnoverPublic, req, key=idempotency_key)

    # --- after booking: legal events, the collateral watch, alerts ----------------------------------

    def record_event(
        self, patent_id: str, req: EventCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> EventPublic:
        """POST /v1/patents/{patent_id}/events."""
        return self._write(f"/v1/patents/{patent_id}/events", EventPublic, req, key=idempotency_key)

    def loan_watch(self, loan_id: str, *, as_of: date | None = None) -> LoanWatch:
        """GET /v1/loans/{id}/watch."""
        params = {"as_of": as_of.isoformat()} if as_of is not None else None
        return self._send("GET", f"/v1/loans/{loan_id}/watch", LoanWatch, params=params)

    def list_alerts(self, **filters: Any) -> AlertPage:
        """GET /v1/alerts (severity, type, status, loan_id, since, until, limit, offset)."""
        params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v is not None}
        return self._send("GET", "/v1/alerts", AlertPage, params=params)

    def acknowledge_alert(
        self, alert_id: str, req: AlertAck | dict[str, Any], *, idempotency_key: str | None = None
    ) -> AlertPublic:
        """POST /v1/alerts/{id}/acknowledge."""
        return self._write(f"/v1/alerts/{alert_id}/acknowledge", AlertPublic, req, key=idempotency_key)

    def open_disposal(
        self, loan_id: str, req: DisposalOpen | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DisposalPublic:
        """POST /v1/loans/{id}/disposal-case."""
        return self._write(f"/v1/loans/{loan_id}/disposal-case", DisposalPublic, req, key=idempotency_key)

    def disposal_of_loan(self, loan_id: str) -> DisposalPublic:
        """GET /v1/loans/{id}/disposal-case."""
        return self._send("GET", f"/v1/loans/{loan_id}/disposal-case", DisposalPublic)

    def disposal_step(
        self, case_id: str, req: DisposalStepCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DisposalPublic:
        """POST /v1/disposals/{id}/steps."""
        return self._write(f"/v1/disposals/{case_id}/steps", DisposalPublic, req, key=idempotency_key)

    def get_disposal(self, case_id: str) -> DisposalPublic:
        """GET /v1/disposals/{id}."""
        return self._send("GET", f"/v1/disposals/{case_id}", DisposalPublic)

    def ready(self) -> dict[str, Any]:
        """GET /readyz (raises ServerError when not ready)."""
        out: dict[str, Any] = self.request("GET", "/readyz")
        return out

    # --- risk-compensation funds ---------------------------------------------------------------------

    def _list(self, path: str, out: type[T], **kw: Any) -> list[T]:
        # mypy takes list[out] for a type expression with a variable in it; at run time it is one
        return TypeAdapter(list[out]).validate_python(self.request("GET", path, **kw))  # type: ignore[valid-type]

    def create_fund(self, req: FundCreate | dict[str, Any], *, idempotency_key: str | None = None) -> FundPublic:
        """POST /v1/funds."""
        return self._write("/v1/funds", FundPublic, req, key=idempotency_key)

    def list_funds(self) -> list[FundPublic]:
        """GET /v1/funds."""
        return self._list("/v1/funds", FundPublic)

    def get_fund(self, fund_id: str) -> FundPublic:
        """GET /v1/funds/{fund_id}."""
        return self._send("GET", f"/v1/funds/{fund_id}", FundPublic)

    def add_rule_version(
        self, fund_id: str, req: RuleVersionCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> RuleVersionPublic:
        """POST /v1/funds/{fund_id}/rules (in force from today or later; earlier: the regulator, with a reason)."""
        return self._write(f"/v1/funds/{fund_id}/rules", RuleVersionPublic, req, key=idempotency_key)

    def list_rule_versions(self, fund_id: str) -> list[RuleVersionPublic]:
        """GET /v1/funds/{fund_id}/rules."""
        return self._list(f"/v1/funds/{fund_id}/rules", RuleVersionPublic)

    def set_fund_bank(self, fund_id: str, bank_id: str, req: BankAgreement | dict[str, Any]) -> BankPublic:
        """PUT /v1/funds/{fund_id}/banks/{bank_id}."""
        return self._send("PUT", f"/v1/funds/{fund_id}/banks/{bank_id}", BankPublic, req)

    def list_fund_banks(self, fund_id: str) -> list[BankPublic]:
        """GET /v1/funds/{fund_id}/banks."""
        return self._list(f"/v1/funds/{fund_id}/banks", BankPublic)

    def deposit(
        self, fund_id: str, req: DepositCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> BalancePublic:
        """POST /v1/funds/{fund_id}/deposits (once per key: a retry never deposits twice)."""
        return self._write(f"/v1/funds/{fund_id}/deposits", BalancePublic, req, key=idempotency_key)

    def register_pool_loan(
        self, fund_id: str, req: PoolLoanCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> PoolLoanPublic:
        """POST /v1/funds/{fund_id}/loans."""
        return self._write(f"/v1/funds/{fund_id}/loans", PoolLoanPublic, req, key=idempotency_key)

    def list_pool_loans(self, fund_id: str, *, limit: int = 50, offset: int = 0) -> PoolLoanPage:
        """GET /v1/funds/{fund_id}/loans."""
        return self._send("GET", f"/v1/funds/{fund_id}/loans", PoolLoanPage, params={"limit": limit, "offset": offset})

    def get_pool_loan(self, fund_id: str, pool_loan_id: str) -> PoolLoanPublic:
        """GET /v1/funds/{fund_id}/loans/{pool_loan_id}."""
        return self._send("GET", f"/v1/funds/{fund_id}/loans/{pool_loan_id}", PoolLoanPublic)

    def repay_pool_loan(
        self,
        fund_id: str,
        pool_loan_id: str,
        req: PoolRepaymentCreate | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> PoolLoanPublic:
        """POST /v1/funds/{fund_id}/loans/{pool_loan_id}/repayments (once per key)."""
        path = f"/v1/funds/{fund_id}/loans/{pool_loan_id}/repayments"
        return self._write(path, PoolLoanPublic, req, key=idempotency_key)

    def request_correction(
        self, fund_id: str, req: CorrectionCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> CorrectionPublic:
        """POST /v1/funds/{fund_id}/corrections (reverse a deposit; a second manager key approves)."""
        return self._write(f"/v1/funds/{fund_id}/corrections", CorrectionPublic, req, key=idempotency_key)

    def approve_correction(
        self, fund_id: str, correction_id: str, *, idempotency_key: str | None = None
    ) -> CorrectionPublic:
        """POST /v1/funds/{fund_id}/corrections/{correction_id}/approval."""
        path = f"/v1/funds/{fund_id}/corrections/{correction_id}/approval"
        return self._write(path, CorrectionPublic, None, key=idempotency_key)

    def list_corrections(self, fund_id: str) -> list[CorrectionPublic]:
        """GET /v1/funds/{fund_id}/corrections."""
        return self._list(f"/v1/funds/{fund_id}/corrections", CorrectionPublic)

    def add_subsidy_programme(
        self, fund_id: str, req: ProgrammeVersionCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> ProgrammeVersionPublic:
        """POST /v1/funds/{fund_id}/subsidies/programmes."""
        path = f"/v1/funds/{fund_id}/subsidies/programmes"
        return self._write(path, ProgrammeVersionPublic, req, key=idempotency_key)

    def list_subsidy_programmes(self, fund_id: str) -> list[ProgrammeVersionPublic]:
        """GET /v1/funds/{fund_id}/subsidies/programmes."""
        return self._list(f"/v1/funds/{fund_id}/subsidies/programmes", ProgrammeVersionPublic)

    def apply_for_subsidy(
        self, fund_id: str, req: ApplicationCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> ApplicationPublic:
        """POST /v1/funds/{fund_id}/subsidies/applications."""
        path = f"/v1/funds/{fund_id}/subsidies/applications"
        return self._write(path, ApplicationPublic, req, key=idempotency_key)

    def list_subsidy_applications(self, fund_id: str) -> list[ApplicationPublic]:
        """GET /v1/funds/{fund_id}/subsidies/applications."""
        return self._list(f"/v1/funds/{fund_id}/subsidies/applications", ApplicationPublic)

    def decide_subsidy(
        self, fund_id: str, application_id: str, decision: str, reason: str | None = None
    ) -> ApplicationPublic:
        """POST /v1/funds/{fund_id}/subsidies/applications/{application_id}/decision (pay or reject)."""
        body: dict[str, Any] = {"decision": decision} | ({"reason": reason} if reason is not None else {})
        path = f"/v1/funds/{fund_id}/subsidies/applications/{application_id}/decision"
        return self._write(path, ApplicationPublic, body)

    def subsidy_statistics(self, fund_id: str) -> SubsidyStatistics:
        """GET /v1/funds/{fund_id}/subsidies/statistics."""
        return self._send("GET", f"/v1/funds/{fund_id}/subsidies/statistics", SubsidyStatistics)

    def file_claim(self, fund_id: str, req: ClaimCreate | dict[str, Any], *, idempotency_key: str) -> ClaimPublic:
        """POST /v1/funds/{fund_id}/claims with an Idempotency-Key (a replay returns the same claim)."""
        return self._write(f"/v1/funds/{fund_id}/claims", ClaimPublic, req, key=idempotency_key)

    def list_claims(self, fund_id: str, *, status: str | None = None, limit: int = 50, offset: int = 0) -> ClaimPage:
        """GET /v1/funds/{fund_id}/claims."""
        params: dict[str, Any] = {"limit": limit, "offset": offset} | ({"status": status} if status else {})
        return self._send("GET", f"/v1/funds/{fund_id}/claims", ClaimPage, params=params)

    def get_claim(self, fund_id: str, claim_id: str) -> ClaimPublic:
        """GET /v1/funds/{fund_id}/claims/{claim_id}."""
        return self._send("GET", f"/v1/funds/{fund_id}/claims/{claim_id}", ClaimPublic)

    def decide_claim(
        self,
        fund_id: str,
        claim_id: str,
        decision: str,
        reason: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ClaimPublic:
        """POST /v1/funds/{fund_id}/claims/{claim_id}/decision (approve, reject, request_info)."""
        body = {"decision": decision} | ({"reason": reason} if reason is not None else {})
        return self._write(f"/v1/funds/{fund_id}/claims/{claim_id}/decision", ClaimPublic, body, key=idempotency_key)

    def supplement_claim(
        self, fund_id: str, claim_id: str, req: EvidenceCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> ClaimPublic:
        """POST /v1/funds/{fund_id}/claims/{claim_id}/evidence."""
        return self._write(f"/v1/funds/{fund_id}/claims/{claim_id}/evidence", ClaimPublic, req, key=idempotency_key)

    def report_recovery(
        self, fund_id: str, claim_id: str, req: RecoveryCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> RecoveryPublic:
        """POST /v1/funds/{fund_id}/claims/{claim_id}/recoveries (once per key: a retry never claws back twice)."""
        return self._write(
            f"/v1/funds/{fund_id}/claims/{claim_id}/recoveries", RecoveryPublic, req, key=idempotency_key
        )

    def fund_ledger(self, fund_id: str, *, limit: int = 100, offset: int = 0) -> LedgerPage:
        """GET /v1/funds/{fund_id}/ledger."""
        return self._send("GET", f"/v1/funds/{fund_id}/ledger", LedgerPage, params={"limit": limit, "offset": offset})

    def fund_balance(self, fund_id: str) -> BalancePublic:
        """GET /v1/funds/{fund_id}/balance."""
        return self._send("GET", f"/v1/funds/{fund_id}/balance", BalancePublic)

    # --- the regulator's read-only view (issue 16: one block) ---------------------------------------

    def portfolio(self, *, group_by: str = "bank") -> PortfolioReport:
        """GET /v1/regulator/portfolio (group_by: bank, region, industry, patent type…)."""
        return self._send("GET", "/v1/regulator/portfolio", PortfolioReport, params={"group_by": group_by})

    def export_portfolio(self, *, group_by: str = "bank", fmt: Literal["csv", "parquet"] = "csv") -> bytes:
        """GET /v1/regulator/portfolio/export: the file's bytes (CSV or Parquet)."""
        resp = self._http.get("/v1/regulator/portfolio/export", params={"group_by": group_by, "format": fmt})
        if resp.status_code >= 400:
            self._decode(resp)  # raises the matching error
        return resp.content

    def fund_statistics(self) -> list[FundStatistics]:
        """GET /v1/regulator/funds."""
        return self._list("/v1/regulator/funds", FundStatistics)

    def drift(self, *, days: int = 30) -> list[DriftReport]:
        """GET /v1/regulator/monitoring/drift: PSI per input and score over the last ``days`` days."""
        return self._list("/v1/regulator/monitoring/drift", DriftReport, params={"days": days})

    def performance(self, *, as_of: date | None = None) -> PerformanceReport:
        """GET /v1/regulator/monitoring/performance: realised vs expected default rate by grade."""
        params = {"as_of": as_of.isoformat()} if as_of is not None else None
        return self._send("GET", "/v1/regulator/monitoring/performance", PerformanceReport, params=params)

    def models(self) -> ModelInventory:
        """GET /v1/regulator/models: every model and version, aliases and their moves."""
        return self._send("GET", "/v1/regulator/models", ModelInventory)

    def champion_at(self, name: str, at: datetime) -> dict[str, Any]:
        """GET /v1/regulator/models/{name}/champion?at=…: the champion at an instant."""
        out: dict[str, Any] = self.request(
            "GET", f"/v1/regulator/models/{name}/champion", params={"at": at.isoformat()}
        )
        return out

    def model_card(self, name: str, version: str) -> ModelCard:
        """GET /v1/regulator/models/{name}/{version}/card."""
        return self._send("GET", f"/v1/regulator/models/{name}/{version}/card", ModelCard)

    def verify_audit(self, *, seq: int | None = None, digest: str | None = None) -> AuditCheck:
        """GET /v1/regulator/audit/verify (optionally against a checkpoint you kept: ``seq`` and ``digest``)."""
        params = {"seq": seq, "hash": digest} if seq is not None else None
        return self._send("GET", "/v1/regulator/audit/verify", AuditCheck, params=params)

    def audit_checkpoints(self) -> list[AuditCheckpoint]:
        """GET /v1/regulator/audit/checkpoints, oldest first."""
        return self._list("/v1/regulator/audit/checkpoints", AuditCheckpoint)


def _page(since: date | None, until: date | None, limit: int, offset: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if since is not None:
        params["since"] = since.isoformat()
    if until is not None:
        params["until"] = until.isoformat()
    return params
