"""The console's words in Chinese (the default) and English, and how it writes amounts.

Labels of the shared vocabularies (regions, industries, patent types…) are keyed
by the vocabulary's own values (``scoring.vocab``); a value without a label is
shown as it is (a code).  Amounts follow the reader: 万元 and 亿元 in Chinese,
CNY with thousands separators in English.
"""

from __future__ import annotations

import math
from decimal import Decimal

from scoring.vocab.lang import Lang

Number = float | int | Decimal

LABELS: dict[str, tuple[str, str]] = {
    # regions: the nine prefecture-level divisions and the Gui'an New Area (市州)
    "guiyang": ("贵阳市", "Guiyang"),
    "zunyi": ("遵义市", "Zunyi"),
    "liupanshui": ("六盘水市", "Liupanshui"),
    "anshun": ("安顺市", "Anshun"),
    "bijie": ("毕节市", "Bijie"),
    "tongren": ("铜仁市", "Tongren"),
    "qiandongnan": ("黔东南州", "Qiandongnan"),
    "qiannan": ("黔南州", "Qiannan"),
    "qianxinan": ("黔西南州", "Qianxinan"),
    "guian_new_area": ("贵安新区", "Gui'an New Area"),
    # industries: the six industrial bases
    "resource_processing": ("资源精深加工", "Resource deep-processing"),
    "new_energy_batteries": ("新能源动力电池及材料", "New-energy batteries and materials"),
    "computing_power": ("算力", "Computing power"),
    "baijiu": ("白酒", "Baijiu"),
    "new_energy_comprehensive": ("新型综合能源", "New comprehensive energy"),
    "advanced_equipment": ("先进装备制造", "Advanced equipment"),
    "other": ("其他", "Other"),
    # patent types
    "invention": ("发明", "Invention"),
    "utility_model": ("实用新型", "Utility model"),
    "design": ("外观设计", "Design"),
    # technology fields (royalty classes)
    "software": ("软件", "Software"),
    "pharma_biotech": ("医药生物", "Pharma and biotech"),
    "medical_devices": ("医疗器械", "Medical devices"),
    "consumer": ("消费品", "Consumer goods"),
    "electronics": ("电子", "Electronics"),
    "chemicals_materials": ("化工材料", "Chemicals and materials"),
    "automotive_industrial": ("汽车与工业", "Automotive and industrial"),
    "semiconductors": ("半导体", "Semiconductors"),
    # legal statuses
    "pending": ("审查中", "Pending"),
    "granted": ("已授权", "Granted"),
    "lapsed": ("已失效", "Lapsed"),
    "invalidated": ("已宣告无效", "Invalidated"),
    # loan purposes
    "rd": ("研发", "R&D"),
    "industrialisation": ("成果产业化", "Industrialisation"),
    "ip_operation": ("知识产权运营", "IP operation"),
    "working_capital": ("流动资金", "Working capital"),
    # decisions
    "approve": ("建议批准", "Approve"),
    "refer": ("提交人工审查", "Refer"),
    "decline": ("建议拒绝", "Decline"),
    # check statuses
    "pass": ("通过", "Pass"),
    "fail": ("未通过", "Fail"),
    "warn": ("提示", "Warning"),
    "not_assessed": ("未评估", "Not assessed"),
    # claim statuses and decisions
    "info_requested": ("待补充材料", "Information requested"),
    "approved": ("已批准", "Approved"),
    "rejected": ("已驳回", "Rejected"),
    "reject": ("驳回", "Reject"),
    "request_info": ("要求补充材料", "Request information"),
    # asset classes
    "normal": ("正常", "Normal"),
    "special_mention": ("关注", "Special mention"),
    "substandard": ("次级", "Substandard"),
    "doubtful": ("可疑", "Doubtful"),
    "loss": ("损失", "Loss"),
    # roles
    "bank": ("银行信贷员", "Bank loan officer"),
    "fund_manager": ("风险补偿资金管理人", "Fund manager"),
    "regulator": ("金融监管部门", "Regulator"),
    "insurer": ("保险机构", "Insurer"),
    "data_team": ("数据团队", "Data team"),
    "data_feed": ("数据接口", "Data feed"),
    # booked loans: credit status and pledge states and events (scoring.pledge_life)
    "active": ("正常存续", "Active"),
    "defaulted": ("已违约", "Defaulted"),
    "closed": ("已结清", "Closed"),
    "booked": ("已放款待登记", "Booked"),
    "registered": ("已办理质押登记", "Registered"),
    "performing": ("正常履约", "Performing"),
    "in_disposal": ("处置中", "In disposal"),
    "disposed": ("已处置", "Disposed"),
    "released": ("已解除质押", "Released"),
    "settled": ("已结清", "Settled"),
    "book": ("放款登记", "Book"),
    "record_registration": ("提交质押登记", "Record registration"),
    "register": ("完成质押登记", "Register"),
    "perform": ("正常履约", "Perform"),
    "default": ("违约", "Default"),
    "repay": ("还款", "Repay"),
    "close": ("结清", "Close"),
    "start_disposal": ("开始处置", "Start disposal"),
    "dispose": ("完成处置", "Dispose"),
    "release": ("解除质押", "Release"),
    # fund ledger: transaction kinds and accounts (service.schemas.funds)
    "ledger.deposit": ("注资", "Deposit"),
    "ledger.reserve": ("预留", "Reserve"),
    "ledger.release": ("释放预留", "Release"),
    "ledger.payout": ("赔付", "Payout"),
    "ledger.clawback": ("追偿返还", "Claw-back"),
    "cash_available": ("可用资金", "Cash available"),
    "cash_reserved": ("预留资金", "Cash reserved"),
    "contributions": ("注资累计", "Contributions"),
    "claims_paid": ("已付代偿", "Claims paid"),
    "recoveries": ("追回款", "Recoveries"),
    # the collateral watch (docs/after-booking.md): alert types, severities, alert states, value bases
    "ltv_breach": ("抵质押率超限", "LTV above the cap"),
    "fee_due": ("年费即将到期", "Annual fee due"),
    "lapse": ("专利权终止", "Lapsed"),
    "invalidation_requested": ("被请求宣告无效", "Invalidation requested"),
    "litigation": ("涉诉", "Litigation"),
    "preservation_order": ("财产保全", "Preservation order"),
    "pledge_term_short": ("质押登记期限不足", "Pledge term too short"),
    "expires_before_maturity": ("保护期早于贷款到期", "Expires before maturity"),
    "value_fall": ("估值下跌", "Value fall"),
    "info": ("提示", "Info"),
    "warning": ("警告", "Warning"),
    "critical": ("严重", "Critical"),
    "open": ("未处理", "Open"),
    "acknowledged": ("已确认", "Acknowledged"),
    "resolved": ("已解除", "Resolved"),
    "pledgeable": ("可质押", "Pledgeable"),
    "not_alive": ("权利已不存续", "Not alive"),
    "not_registrable": ("不可办理质押", "Not registrable"),
    # disposal channels (scoring.vocab.DISPOSAL_CHANNELS)
    "negotiated_transfer": ("协议转让", "Negotiated transfer"),
    "judicial_auction": ("司法拍卖", "Judicial auction"),
    "exchange_listing": ("交易所挂牌", "Exchange listing"),
    "licensing": ("许可实施", "Licensing"),
    "acquisition": ("收购", "Acquisition"),
    # subsidies (scoring.subsidies)
    "interest": ("贷款贴息", "Interest"),
    "premium": ("保费补贴", "Premium"),
    "appraisal_fee": ("评估费补贴", "Appraisal fee"),
    "guarantee_fee": ("担保费补贴", "Guarantee fee"),
    "paid": ("已拨付", "Paid"),
    "enterprise": ("企业", "Enterprise"),
    # drift bands
    "stable": ("稳定", "Stable"),
    "watch": ("关注", "Watch"),
    "act": ("需处置", "Act"),
}


def label(value: object, lang: Lang) -> str:
    """The word for a vocabulary value in ``lang``; the value itself when it has none (a code)."""
    if value is None:
        return "—"
    pair = LABELS.get(str(value))
    if pair is None:
        return str(value)
    return pair[0] if lang == "zh" else pair[1]


def money(amount: Number | None, lang: Lang) -> str:
    """An amount of yuan as a Chinese reader expects it (万元, 亿元) or with separators in English."""
    if amount is None:
        return "—"
    value = float(amount)
    if not math.isfinite(value):
        return "—"
    if lang == "en":
        return f"¥{value:,.0f}" if abs(value) >= 100 else f"¥{value:,.2f}"
    if abs(value) >= 1e8:
        return f"{value / 1e8:,.2f} 亿元"
    if abs(value) >= 1e4:
        return f"{value / 1e4:,.2f} 万元"
    return f"{value:,.2f} 元"


def percent(share: Number | None, digits: int = 1) -> str:
    """A share as a percentage (0.0312 → 3.1%)."""
    if share is None:
        return "—"
    return f"{float(share) * 100:.{digits}f}%"


FIELDS: dict[str, str] = {
    "enterprise_id": "企业代码",
    "industry": "产业",
    "region": "所在市州",
    "revenue_cny": "年营业收入（元）",
    "employees": "从业人数",
    "years_registered": "成立年限（年）",
    "rd_intensity": "研发投入强度",
    "high_tech": "高新技术企业",
    "specialised_sme": "专精特新企业",
    "is_sme": "中小企业",
    "leverage": "资产负债率",
    "prior_overdue_count": "历史逾期次数",
    "bad_credit_3y": "近三年不良信用记录",
    "amount_cny": "贷款金额（元）",
    "tenor_months": "期限（月）",
    "purpose": "贷款用途",
    "ip_share_of_collateral": "知识产权占担保物比例",
    "insured_share": "保险分担比例",
    "fund_cover_share": "补偿资金分担比例",
    "guarantee_share": "担保分担比例",
    "annual_rate": "年利率",
    "patent_id": "专利号",
    "patent_type": "专利类型",
    "ipc_section": "IPC 部",
    "tech_field": "技术领域",
    "filing_date": "申请日",
    "grant_date": "授权日",
    "legal_status": "法律状态",
    "annual_fees_paid_years": "已缴年费年数",
    "fees_up_to_date": "年费按时缴纳",
    "claims_count": "权利要求数",
    "independent_claims": "独立权利要求数",
    "family_size": "同族规模",
    "foreign_family_members": "海外同族数",
    "forward_citations": "被引次数",
    "licences_count": "许可次数",
    "owner_id": "权利人代码",
    "pledgor_id": "出质人代码",
    "owner_revenue_cny": "权利人年营业收入（元）",
    "revenue_attributable_cny": "专利相关年收入（元）",
    "as_of": "基准日",
}


def field_name(name: str, lang: Lang) -> str:
    """A request field's name for a reader: Chinese where the console has it, else the field itself."""
    return FIELDS.get(name, name) if lang == "zh" else name


def field_value(value: object, lang: Lang) -> str:
    """A request field's value for a reader: vocabulary words, yes or no, numbers as they were sent."""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, str):
        return label(value, lang)
    if value is None:
        return "—"
    return str(value)


# The PD model's inputs by neutral names, for the waterfall (the reason texts name the adverse
# direction only, and a bar may push either way).
PD_INPUTS: dict[str, tuple[str, str]] = {
    "industry": ("所属产业", "Industry"),
    "region": ("所在市州", "Region"),
    "purpose": ("贷款用途", "Purpose"),
    "log_revenue": ("营业收入", "Revenue"),
    "employees": ("从业人数", "Employees"),
    "years_registered": ("成立年限", "Years registered"),
    "rd_intensity": ("研发投入强度", "R&D intensity"),
    "high_tech": ("高新技术企业认定", "High-tech status"),
    "specialised_sme": ("专精特新认定", "Specialised SME status"),
    "leverage": ("资产负债率", "Leverage"),
    "prior_overdue_count": ("历史逾期次数", "Past overdue payments"),
    "bad_credit_3y": ("近三年信用记录", "Credit record, 3 years"),
    "log_amount": ("贷款金额", "Loan amount"),
    "tenor_months": ("贷款期限", "Tenor"),
    "ltv_model": ("贷款金额与专利估值之比", "Loan against model value"),
    "ip_share_of_collateral": ("知识产权担保占比", "IP share of collateral"),
    "n_patents": ("质押专利数量", "Patents pledged"),
    "invention_share": ("发明专利占比", "Invention share"),
    "min_remaining_life_years": ("最短剩余保护期", "Shortest remaining life"),
}
