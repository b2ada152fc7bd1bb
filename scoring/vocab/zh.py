"""Chinese labels of every vocabulary value: what a zh text, export or report shows instead of the code.

One table per vocabulary, keyed by its name; :func:`label` looks a value up and
:func:`labels` gives a whole table.  ``tests/scoring/test_zh_labels.py`` checks that
every value of every vocabulary Literal has a label here.  The names follow the
official wording where there is one: the asset classes of 商业银行金融资产风险分类办法
(2023), the patent types of the Patent Law, the six industrial bases of the Guizhou
provincial government (2024), the prefecture-level divisions by their official names.
"""

from __future__ import annotations

from collections.abc import Mapping

ZH: Mapping[str, Mapping[str, str]] = {
    "npl_class": {
        "normal": "正常",
        "special_mention": "关注",
        "substandard": "次级",
        "doubtful": "可疑",
        "loss": "损失",
        "unreported": "未报告",
    },
    "patent_type": {"invention": "发明专利", "utility_model": "实用新型专利", "design": "外观设计专利"},
    "industry": {
        "resource_processing": "资源精深加工",
        "new_energy_batteries": "新能源动力电池及材料",
        "computing_power": "数据中心（算力）",
        "baijiu": "酱香白酒",
        "new_energy_comprehensive": "新型综合能源",
        "advanced_equipment": "先进装备制造",
        "other": "其他行业",
    },
    "region": {
        "guiyang": "贵阳市",
        "zunyi": "遵义市",
        "liupanshui": "六盘水市",
        "anshun": "安顺市",
        "bijie": "毕节市",
        "tongren": "铜仁市",
        "qiandongnan": "黔东南州",
        "qiannan": "黔南州",
        "qianxinan": "黔西南州",
        "guian_new_area": "贵安新区",
        "outside": "省外",
        "unknown": "未填报",
    },
    "ipc_section": {
        "A": "A部 人类生活必需",
        "B": "B部 作业、运输",
        "C": "C部 化学、冶金",
        "D": "D部 纺织、造纸",
        "E": "E部 固定建筑物",
        "F": "F部 机械工程、照明、加热、武器、爆破",
        "G": "G部 物理",
        "H": "H部 电学",
    },
    "tech_field": {
        "software": "软件",
        "pharma_biotech": "医药与生物技术",
        "medical_devices": "医疗器械",
        "consumer": "消费品",
        "electronics": "电子",
        "chemicals_materials": "化工与材料",
        "automotive_industrial": "汽车与工业",
        "semiconductors": "半导体",
    },
    "legal_status": {"pending": "审查中", "granted": "已授权", "lapsed": "已失效", "invalidated": "已宣告无效"},
    "owner_type": {
        "enterprise": "企业",
        "university": "高等院校",
        "research_institute": "科研院所",
        "individual": "个人",
    },
    "purpose": {
        "rd": "研发投入",
        "industrialisation": "成果转化及产业化",
        "ip_operation": "知识产权运营",
        "working_capital": "流动资金",
        "other": "其他用途",
    },
    "disposal_channel": {
        "negotiated_transfer": "协议转让",
        "judicial_auction": "司法拍卖",
        "exchange_listing": "交易所挂牌",
        "licensing": "许可代替出售",
        "acquisition": "收储",
    },
    "repayment_type": {"bullet": "到期一次还本", "equal_principal": "等额本金", "equal_instalment": "等额本息"},
    "transaction_type": {
        "transfer": "专利转让",
        "licence_exclusive": "独占许可",
        "licence_non_exclusive": "普通许可",
        "licence_open": "开放许可",
        "pledge_registration": "质押登记",
        "pledge_release": "质押注销",
        "disposal_sale": "处置变现",
        "capital_contribution": "作价入股",
    },
    "price_source": {"transfer": "转让价格", "licence": "许可费", "disposal": "处置价格", "appraisal": "评估价值"},
    "claim_source": {"desk_review": "书面审查", "field_review": "现场审查"},
    "party_role": {"pool": "风险补偿资金池", "bank": "贷款银行", "co_payer": "共担方"},
    "party": {
        "fund": "风险补偿资金池",
        "provincial_fund": "省级风险补偿资金",
        "city_fund": "市级风险补偿资金",
        "bank": "贷款银行",
        "insurer": "保险机构",
        "appraiser": "评估机构",
        "guarantor": "担保机构",
    },
    "outcome_status": {"performing": "正常履约", "repaid": "已结清", "default": "违约"},
    "credit_status": {"active": "存续", "defaulted": "违约", "closed": "已结清"},
    "pledge_state": {
        "booked": "已放款待登记",
        "registered": "已质押登记",
        "performing": "正常履约",
        "defaulted": "违约",
        "in_disposal": "处置中",
        "disposed": "已处置",
        "released": "已解除质押",
        "settled": "已结清",
    },
    "registration_status": {"applied": "已申请", "registered": "已登记", "changed": "已变更", "released": "已注销"},
    "claim_status": {"pending": "待审核", "info_requested": "待补充材料", "approved": "已批准", "rejected": "已驳回"},
    "payment_kind": {"repayment": "还款", "write_off": "核销"},
    "ticket_band": {"under_10m": "1000万元以下", "10m_to_20m": "1000万至2000万元", "20m_and_over": "2000万元及以上"},
    "book_dim": {
        "bank": "银行",
        "region": "市州",
        "industry": "产业基地",
        "patent_type": "专利类型",
        "ticket_band": "单笔金额区间",
        "vintage": "发放年份",
    },
    "decision": {"approve": "建议批准", "refer": "建议复核", "decline": "建议拒绝"},
    "high_value_criterion": {
        "strategic_emerging": "战略性新兴产业",
        "overseas_family": "有海外同族专利",
        "maintained_10_years": "维持年限超过10年",
        "high_pledge_amount": "质押融资金额较高",
        "national_award": "获国家级奖项",
    },
}


def label(vocabulary: str, value: str) -> str:
    """The Chinese label of ``value`` in ``vocabulary``; the value itself when it has none (a code, a year)."""
    return ZH.get(vocabulary, {}).get(value, value)


def labels(vocabulary: str) -> Mapping[str, str]:
    """Every label of one vocabulary."""
    return ZH[vocabulary]
