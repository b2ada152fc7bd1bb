"""Prometheus metrics, one registry per app, and the ASGI middleware that records them.

Requests are labelled by route template, method and status class, never by
an id.  The middleware also gives every request an id (``X-Request-ID``,
taken from the client when it sends a sane one) and writes one JSON log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scoring.watch import ALERT_TYPES, SEVERITIES

if TYPE_CHECKING:
    from service.bundle import ModelBundle

access_log = logging.getLogger("iprisk.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PD_BUCKETS = (0.003, 0.006, 0.01, 0.015, 0.025, 0.04, 0.065, 0.1, 0.18, 0.3, 0.5, 1.0)
VALUE_BUCKETS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9)


class Metrics:
    """The service's metric families in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("iprisk_http_requests", "HTTP requests.", ["route", "method", "status"], registry=r)
        self.latency = Histogram(
            "iprisk_http_request_duration_seconds",
            "HTTP request latency.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pd = Histogram("iprisk_pd", "Calibrated 12-month PD of assessments.", buckets=PD_BUCKETS, registry=r)
        self.value = Histogram(
            "iprisk_patent_value_p50_cny", "P50 value of valued patents (CNY).", buckets=VALUE_BUCKETS, registry=r
        )
        # A plain int changed by the middleware; the gauge reads it at scrape time.
        self.in_flight = 0
        Gauge("iprisk_http_requests_in_flight", "HTTP requests being served now.", registry=r).set_function(
            lambda: self.in_flight
        )
        self.model_info = Gauge(
            "iprisk_model_info", "Model versions served (1 = serving).", ["model", "version"], registry=r
        )
        self.shap_kernel = Gauge(
            "iprisk_shap_kernel",
            "Booster explained by the exact TreeSHAP kernel (1) or by LightGBM's pred_contrib (0); "
            "the reason is in /readyz details.",
            ["model", "role"],
            registry=r,
        )
        self.shap_row_kernel = Gauge(
            "iprisk_shap_row_kernel",
            "Booster whose single-row explanations come from the exact edge kernel (1), or from the table kernel "
            "or pred_contrib (0); the reason is in /readyz details.",
            ["model", "role"],
            registry=r,
        )
        self.psi = Gauge(
            "iprisk_model_psi", "PSI between training reference and recent traffic.", ["model", "feature"], registry=r
        )
        self.alerts_open = Gauge(
            "iprisk_alerts_open",
            "Open (unacknowledged, still raised) collateral-watch alerts, by severity and type.",
            ["severity", "type"],
            registry=r,
        )

    def set_alerts(self, counts: dict[tuple[str, str], int]) -> None:
        """Open alerts by (severity, type); every pair not given is 0 (an alert resolved is no longer counted)."""
        for severity in SEVERITIES:
            for kind in ALERT_TYPES:
                self.alerts_open.labels(severity=severity, type=kind).set(counts.get((severity, kind), 0))

    def set_models(self, versions: dict[str, str]) -> None:
        """Record which versions serve now."""
        self.model_info.clear()
        for name, version in versions.items():
            self.model_info.labels(model=name, version=version).set(1)

    def set_bundle(self, bundle: ModelBundle) -> None:
        """Record a newly swapped-in bundle: its versions and its SHAP kernels."""
        self.set_models(bundle.versions)
        self.set_shap_kernel(bundle.shap_kernel())

    def set_shap_kernel(self, kernels: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Record, per model and role, whether the SHAP kernel serves (``ModelBundle.shap_kernel``)."""
        self.shap_kernel.clear()
        self.shap_row_kernel.clear()
        for name, roles in kernels.items():
            for role, state in roles.items():
                self.shap_kernel.labels(model=name, role=role).set(1 if state["kernel"] else 0)
                self.shap_row_kernel.labels(model=name, role=role).set(1 if state.get("row_kernel") else 0)


class MetricsMiddleware:
    """Count, time and log every HTTP request; attach a request id."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        supplied = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        self.metrics.in_flight += 1  # only the event loop's thread changes it
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight -= 1
            self._record(scope, status["code"], time.perf_counter() - t0, request_id)

    def _record(self, scope: Scope, code: int, elapsed: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None)
        if template is None:
            # Starlette's own routes (/openapi.json, /docs) name no template; without path
            # parameters their path is one. Anything else unmatched shares one label.
            template = scope["path"] if "endpoint" in scope and not scope.get("path_params") else "unmatched"
        method = scope.get("method", "")
        self.metrics.requests.labels(route=template, method=method, status=f"{code // 100}xx").inc()
        self.metrics.latency.labels(route=template, method=method).observe(elapsed)
        entry: dict[str, Any] = {
            "event": "request",
            "request_id": request_id,
            "method": method,
            "route": template,
            "status": code,
            "ms": round(elapsed * 1000, 3),
        }
        access_log.info(json.dumps(entry))
