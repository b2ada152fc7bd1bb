"""Controlled vocabularies shared by the data contract, features and API schemas.

The package holds one module per shared word: :mod:`.lang` (languages),
:mod:`.money` (exact CNY and fen), :mod:`.shares` (probabilities and shares),
:mod:`.arrays` (numpy array types by what they hold), and here the categorical
vocabularies and ``FROZEN``, the configuration of every frozen domain type in
``scoring``.
"""

from __future__ import annotations

from pydantic import ConfigDict

FROZEN = ConfigDict(extra="forbid", frozen=True)

PATENT_TYPES = ("invention", "utility_model", "design")
IPC_SECTIONS = ("A", "B", "C", "D", "E", "F", "G", "H")
# Royalty classes of DESIGN.md (relief-from-royalty ranges are keyed by these).
TECH_FIELDS = (
    "software",
    "pharma_biotech",
    "medical_devices",
    "consumer",
    "electronics",
    "chemicals_materials",
    "automotive_industrial",
    "semiconductors",
)
# Guizhou's six industrial bases (provincial government, 2024) plus "other".
INDUSTRIES = (
    "resource_processing",
    "new_energy_batteries",
    "computing_power",
    "baijiu",
    "new_energy_comprehensive",
    "advanced_equipment",
    "other",
)
# Nine prefecture-level divisions plus the Gui'an New Area.
REGIONS = (
    "guiyang",
    "zunyi",
    "liupanshui",
    "anshun",
    "bijie",
    "tongren",
    "qiandongnan",
    "qiannan",
    "qianxinan",
    "guian_new_area",
)
LEGAL_STATUSES = ("pending", "granted", "lapsed", "invalidated")
OWNER_TYPES = ("enterprise", "university", "research_institute", "individual")
LOAN_PURPOSES = ("rd", "industrialisation", "ip_operation", "working_capital", "other")
NPL_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
PRICE_SOURCES = ("transfer", "licence", "disposal", "appraisal")
CLAIM_SOURCES = ("desk_review", "field_review")
