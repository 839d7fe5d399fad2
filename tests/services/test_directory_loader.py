"""The directory loader: the demo file loads idempotently; a wrong file changes nothing and names its lines."""
from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_app.extensions import db
from feedback_app.models import Agency, Area, Field, RoutingRule
from feedback_app.services.directory import directory, get_area, get_field
from feedback_app.services.directory_loader import DirectoryError, load_directory, parse_directory
from tests.conftest import process_env, DEMO_DIRECTORY

SMALL = """\
areas:
  - {code: "1", level: province, name_vi: Tỉnh Thử, name_en: Test Province}
  - {code: "10", parent: "1", level: district, name_vi: Huyện Một, name_en: District One}
fields:
  - {code: roads, service_code: ROADS, name_vi: Giao thông, name_en: Roads}
agencies:
  - {code: SGT, name_vi: Sở Giao thông, name_en: Transport Dept, kind: department, area: "1"}
routing:
  - {field: roads, area: "1", agency: SGT}
"""


def counts() -> tuple:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Area, Field, Agency, RoutingRule))


def test_demo_directory_is_big_enough_and_reloads_unchanged(db_session):
    before = counts()
    assert before[0] >= 60 and before[1] == 12 and before[2] >= 40
    summary = load_directory(DEMO_DIRECTORY.read_text(encoding="utf-8"), source="again")
    assert all(s["created"] == 0 and s["updated"] == 0 for k, s in summary.items() if k != "sla_policies")
    assert counts() == before


def test_every_field_has_a_province_rule(db_session):
    snapshot = directory()
    for field in snapshot.fields.values():
        assert snapshot.agency_for(field.id, snapshot.root) is not None, field.code


def test_most_specific_rule_wins(db_session):
    snapshot = directory()
    ward = get_area("09187")  # Suối Hoa, in TP Bắc Ninh

    def agency_area(field_code: str) -> str:
        agency = snapshot.agency_for(get_field(field_code).id, ward)
        return db_session.scalar(sa.select(Area.code).join(Agency, Agency.area_id == Area.id).where(Agency.id == agency.id))

    assert agency_area("environment") == "09187"  # the ward's own committee
    assert agency_area("traffic") == "256"  # the city's committee
    assert agency_area("health") == "27"  # province level last


@pytest.mark.parametrize(
    "broken, line, words",
    [
        (SMALL.replace('area: "1", agency: SGT', 'area: "1", agency: NOPE'), 9, "unknown agency 'NOPE'"),
        (SMALL.replace('parent: "1"', 'parent: "77"'), 3, "parent '77'"),
        (SMALL.replace("kind: department", "kind: ministry"), 7, "kind"),
        (SMALL.replace("service_code: ROADS, ", ""), 5, "service_code"),
        (SMALL.replace("name_en: Roads}", "name_en: Roads, colour: red}"), 5, "colour"),
        (SMALL + '  - {field: roads, area: "1", agency: SGT}\n', 10, "second rule"),
        (SMALL.replace("areas:", "areas: [oops"), None, "not valid YAML"),
    ],
)
def test_a_wrong_file_changes_nothing_and_names_the_line(db_session, broken, line, words):
    before = counts()
    with pytest.raises(DirectoryError) as err:
        load_directory(broken, source="broken.yaml")
    text = str(err.value)
    assert words in text
    if line is not None:
        assert f"line {line} " in text
    db_session.rollback()
    assert counts() == before


def test_cli_reports_lines_and_exits_non_zero(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace('agency: SGT}', 'agency: NOPE}'), encoding="utf-8")
    env = process_env(app)
    result = subprocess.run([sys.executable, "-m", "flask", "directory", "load", str(bad)], env=env,
                            capture_output=True, text=True, cwd=str(DEMO_DIRECTORY.parents[2]))
    assert result.returncode == 1
    assert "nothing changed" in result.stderr and ":line 9 (routing): unknown agency 'NOPE'" in result.stderr


def test_areas_from_points_and_addresses(db_session):
    snapshot = directory()
    area_for_point, area_for_address = snapshot.area_for_point, snapshot.area_for_address
    assert area_for_point(21.1165, 105.9595).path.startswith("27/261/")
    assert area_for_point(10.77, 106.70) is None  # Ho Chi Minh City is not in this directory
    assert area_for_address("so 5 duong Ly Thai To, phuong Suoi Hoa, tp Bac Ninh").code == "09187"
    assert area_for_address("Ngõ 3, Phường Suối Hoa").code == "09187"
    assert area_for_address("somewhere else entirely") is None


@given(text=st.text(max_size=300))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_files_are_refused_cleanly(text):
    try:
        parse_directory(text)
    except DirectoryError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)
