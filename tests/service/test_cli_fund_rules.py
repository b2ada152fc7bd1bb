"""``iprisk funds rules upload FUND FILE``: YAML as the docs show it, or JSON, against a live service."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

from service.cli import app
from service.clock import business_today, system_now
from tests.factories import FUND_EXAMPLES
from tests.service.fund_helpers import manager_for, manager_key
from tests.service.harness import Server


def _upload(server: Server, key: str, fund_id: str, path: Path, *extra: str) -> tuple[int, str]:
    args = ["funds", "rules", "upload", fund_id, str(path), "--url", server.base_url, "--api-key", key, *extra]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def _fund(server: Server) -> tuple[str, str]:
    fund_id = f"fund_cli_{uuid.uuid4().hex[:8]}"
    key = manager_key(server, fund_id)
    manager_for(server, fund_id).create_fund({"id": fund_id, "name": "cli fund", "region": "guiyang"})
    return fund_id, key


def test_a_yaml_rule_file_is_uploaded_then_a_json_one(server: Server, tmp_path: Path) -> None:
    fund_id, key = _fund(server)
    today = business_today(system_now()).isoformat()
    code, out = _upload(server, key, fund_id, FUND_EXAMPLES / "city_40_60.yaml", "--from", today)
    assert code == 0, out
    assert f"fund {fund_id}: rule version 1 in force from {today}" in out
    as_json = tmp_path / "rules.json"
    raw = yaml.safe_load((FUND_EXAMPLES / "city_40_60.yaml").read_text(encoding="utf-8"))
    tomorrow = (business_today(system_now()) + timedelta(days=1)).isoformat()
    as_json.write_text(json.dumps({**raw, "effective_from": tomorrow}, default=str), encoding="utf-8")
    code, out = _upload(server, key, fund_id, as_json)
    assert code == 0, out
    assert "rule version 2" in out
    versions = manager_for(server, fund_id).list_rule_versions(fund_id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].rules.parties[0].share == versions[1].rules.parties[0].share


def test_a_bad_rule_file_is_one_line_naming_the_field(server: Server, tmp_path: Path) -> None:
    fund_id, key = _fund(server)
    raw = yaml.safe_load((FUND_EXAMPLES / "city_40_60.yaml").read_text(encoding="utf-8"))
    raw["rules"]["caps"]["per_loan_cny"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({**raw, "effective_from": business_today(system_now()).isoformat()}), encoding="utf-8"
    )
    code, out = _upload(server, key, fund_id, bad)
    assert code == 2
    assert f"{bad}: refused by the service: 422" in out
    assert "per_loan_cny" in out
    assert "Traceback" not in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [unclosed\n", encoding="utf-8")
    code, out = _upload(server, key, fund_id, broken)
    assert code == 2
    assert "not valid YAML or JSON" in out
    code, out = _upload(server, key, fund_id, tmp_path / "missing.yaml")
    assert code == 2
    assert "missing.yaml" in out
    assert manager_for(server, fund_id).list_rule_versions(fund_id) == []
