"""Forms whose field names are the API's field paths, so a 422 lands beside the field that caused it.

A form field is named by its path in the request body (``borrower.region``,
``loan.amount_cny``, ``patents.0.filing_date``): :func:`nest` builds the body
the API would receive, the request schema validates it exactly as the API does,
and each problem's dotted path (``service.errors.field_problem``) is the name
of the field to show it beside.  Empty fields are left out (the schema's
default applies); a checkbox sends ``true``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scoring.vocab.lang import Lang
from service.errors import ServiceError, field_problem
from service.text_guard import problem

M = TypeVar("M", bound=BaseModel)

# Pydantic's error types in Chinese (the page's language); the English text is pydantic's own.
ZH_PROBLEMS = {
    "missing": "必填",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "int_parsing": "请填写整数",
    "int_from_float": "请填写整数",
    "float_parsing": "请填写数字",
    "decimal_parsing": "请填写数字",
    "date_from_datetime_parsing": "请按 年-月-日 填写日期",
    "date_parsing": "请按 年-月-日 填写日期",
    "literal_error": "请从列表中选择",
    "bool_parsing": "请选择是或否",
    "string_too_long": "内容过长",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不正确",
    "patent_id": "专利号格式或校验位不正确",
    "text_unstorable": "含有无法保存的字符",
}
ZH_GENERIC = "取值不符合规则"


class FormErrors(Exception):
    """Problems by form field name (``""``: the form as a whole), to show beside each field."""

    def __init__(self, errors: dict[str, str], originals: dict[str, str] | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.originals = originals or {}  # the API's English text, beside a Chinese one


def nest(
    items: Iterable[tuple[str, str]], *, skip: Iterable[str] = ("csrf", "once"), guard: bool = True
) -> dict[str, Any]:
    """A nested body from dotted field names; numeric parts index lists, empty values are left out.

    ``guard`` refuses text no column can hold here; without it the use case does (a batch item).
    """
    skipped = set(skip)
    root: dict[str, Any] = {}
    for name, value in items:
        if name in skipped or value.strip() == "":
            continue
        why = problem(value) if guard else None
        if why:
            raise FormErrors({name: why})
        node: Any = root
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict) or isinstance(node.get(parts[-1]), dict):
            raise FormErrors({name: "conflicts with another field of the form"})
        node[parts[-1]] = value.strip()
    body: dict[str, Any] = _lists(root)
    return body


def _lists(node: Any) -> Any:
    """Turn dicts keyed 0, 1, … into lists, in index order."""
    if not isinstance(node, dict):
        return node
    out = {k: _lists(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


def _problem_text(error: Mapping[str, Any], english: str, lang: Lang) -> str:
    if lang == "en":
        return english
    template = ZH_PROBLEMS.get(str(error.get("type")))
    if template is None:
        return ZH_GENERIC
    ctx = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return ZH_GENERIC


def parse(schema: type[M], body: dict[str, Any], *, lang: Lang) -> M:
    """``body`` validated by ``schema`` as the API validates it; :class:`FormErrors` by field otherwise."""
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        originals: dict[str, str] = {}
        for error in exc.errors():
            field, english = field_problem(error)
            errors.setdefault(field, _problem_text(error, english, lang))
            if lang == "zh":
                originals.setdefault(field, english)
        raise FormErrors(errors, originals) from exc


def service_errors(exc: ServiceError, lang: Lang) -> FormErrors:
    """A use case's refusal (422, 404, 409 naming a field) as the problem of that form field."""
    field = exc.field or ""
    if lang == "en":
        return FormErrors({field: exc.detail})
    zh = {404: "未找到该记录", 409: "与已有记录冲突"}.get(exc.status, ZH_GENERIC)
    return FormErrors({field: zh}, {field: exc.detail})
