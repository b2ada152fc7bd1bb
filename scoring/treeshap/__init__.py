"""Exact path-dependent TreeSHAP for LightGBM models, from per-leaf tables (Fast TreeSHAP v2), gated.

:func:`explainer_for` builds the kernel for a booster and proves it equal to
LightGBM's ``pred_contrib`` on probes built from the model
(:mod:`scoring.treeshap.gate`); a model it cannot prove keeps ``pred_contrib``
and says why.  Modules: ``trees`` parses the model text, ``tables`` lays the
model out flat and fills the per-leaf tables, ``kernels`` holds the numba
code, ``engine`` runs it over rows and threads.
"""

from scoring.treeshap.engine import TreeShap
from scoring.treeshap.explainer import Explainer, explainer_for
from scoring.treeshap.gate import GateResult, check_exact

__all__ = ["Explainer", "GateResult", "TreeShap", "check_exact", "explainer_for"]
