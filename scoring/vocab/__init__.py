"""Controlled vocabularies shared by the data contract, features and API schemas.

The package holds one module per shared word: :mod:`.lang` (languages),
:mod:`.money` (exact CNY and fen), :mod:`.shares` (probabilities and shares),
:mod:`.arrays` (numpy array types by what they hold), and here the categorical
vocabularies and ``FROZEN``, the configuration of every frozen domain type in
``scoring``.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import ConfigDict

FROZEN = ConfigDict(extra="forbid", frozen=True)

# Each vocabulary is a Literal type (what mypy and pydantic check) and the tuple of its values,
# read from the type (what features, the data contract and the generator iterate over).
PatentType = Literal["invention", "utility_model", "design"]
PATENT_TYPES: tuple[PatentType, ...] = get_args(PatentType)
IpcSection = Literal["A", "B", "C", "D", "E", "F", "G", "H"]
IPC_SECTIONS: tuple[IpcSection, ...] = get_args(IpcSection)
# Royalty classes of DESIGN.md (relief-from-royalty ranges are keyed by these).
TechField = Literal[
    "software",
    "pharma_biotech",
    "medical_devices",
    "consumer",
    "electronics",
    "chemicals_materials",
    "automotive_industrial",
    "semiconductors",
]
TECH_FIELDS: tuple[TechField, ...] = get_args(TechField)
# Guizhou's six industrial bases (provincial government, 2024) plus "other".
Industry = Literal[
    "resource_processing",
    "new_energy_batteries",
    "computing_power",
    "baijiu",
    "new_energy_comprehensive",
    "advanced_equipment",
    "other",
]
INDUSTRIES: tuple[Industry, ...] = get_args(Industry)
# Nine prefecture-level divisions plus the Gui'an New Area.
Region = Literal[
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
]
REGIONS: tuple[Region, ...] = get_args(Region)
LegalStatus = Literal["pending", "granted", "lapsed", "invalidated"]
LEGAL_STATUSES: tuple[LegalStatus, ...] = get_args(LegalStatus)
OwnerType = Literal["enterprise", "university", "research_institute", "individual"]
OWNER_TYPES: tuple[OwnerType, ...] = get_args(OwnerType)
Purpose = Literal["rd", "industrialisation", "ip_operation", "working_capital", "other"]
LOAN_PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
NplClass = Literal["normal", "special_mention", "substandard", "doubtful", "loss"]
NPL_CLASSES: tuple[NplClass, ...] = get_args(NplClass)
PRICE_SOURCES = ("transfer", "licence", "disposal", "appraisal")
# How pledged patents are turned into cash after a default (issues 12 and 13): negotiated transfer
# 协议转让, judicial auction 司法拍卖, listing on an IP exchange 挂牌交易, licensing instead of sale
# 许可代替出售, acquisition by a government or platform fund 收储.
DisposalChannel = Literal["negotiated_transfer", "judicial_auction", "exchange_listing", "licensing", "acquisition"]
DISPOSAL_CHANNELS: tuple[DisposalChannel, ...] = get_args(DisposalChannel)
CLAIM_SOURCES = ("desk_review", "field_review")
# How a loan's principal falls due (issue 14, scoring/book.py): all at maturity 到期一次还本 (the default
# when none is stated), equal principal 等额本金, equal instalments 等额本息.
RepaymentType = Literal["bullet", "equal_principal", "equal_instalment"]
REPAYMENT_TYPES: tuple[RepaymentType, ...] = get_args(RepaymentType)
# IP transactions registered for the province's statistics (issue 14): transfer 转让, exclusive,
# non-exclusive or open licence 独占、普通、开放许可, pledge registration and release 质押登记、注销, disposal sale
# 处置变现, capital contribution 作价入股.
TransactionType = Literal[
    "transfer",
    "licence_exclusive",
    "licence_non_exclusive",
    "licence_open",
    "pledge_registration",
    "pledge_release",
    "disposal_sale",
    "capital_contribution",
]
TRANSACTION_TYPES: tuple[TransactionType, ...] = get_args(TransactionType)
