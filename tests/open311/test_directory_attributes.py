"""The directory declares Open311 attributes; the loader refuses ones a GeoReport v2 client could not use."""
from __future__ import annotations

import pytest

from feedback_app.services.directory_loader import DirectoryError, parse_directory

TEMPLATE = """\
areas:
  - {{code: "1", level: province, name_vi: Tỉnh Thử, name_en: Test Province}}
fields:
  - code: roads
    service_code: ROADS
    name_vi: Giao thông
    name_en: Roads
    attributes:
{attributes}
agencies:
  - {{code: SGT, name_vi: Sở Giao thông, name_en: Transport Dept, kind: department, area: "1"}}
routing:
  - {{field: roads, area: "1", agency: SGT}}
"""
GOOD = """\
      - {code: road_type, datatype: singlevaluelist, required: true, order: 1, description_vi: Loại đường,
         datatype_description: Chọn một, values: [{key: national, name: Quốc lộ}, {key: urban, name: Đường đô thị}]}
      - {code: notice, variable: false, datatype: text, order: 2, description_vi: Gọi 113 khi khẩn cấp}
      - {code: width_m, datatype: number, order: 3, description_vi: Bề rộng mặt đường}
"""


def test_every_spec_field_of_an_attribute_is_kept():
    [field] = parse_directory(TEMPLATE.format(attributes=GOOD))["fields"]
    road_type, notice, width = field.data["attributes"]
    assert road_type == {"code": "road_type", "datatype": "singlevaluelist", "required": True, "order": 1,
                         "variable": True, "description_vi": "Loại đường", "description_en": "",
                         "datatype_description": "Chọn một",
                         "values": [{"key": "national", "name": "Quốc lộ"}, {"key": "urban", "name": "Đường đô thị"}]}
    assert notice["variable"] is False and width["values"] == []


@pytest.mark.parametrize("attributes, problem", [
    ("      - {code: a, datatype: singlevaluelist, description_vi: A}", "needs values"),
    ("      - {code: a, datatype: string, description_vi: A, values: [{key: x, name: X}]}", "take values"),
    ("      - {code: a, datatype: multivaluelist, description_vi: A, values: [{key: x, name: X}, {key: x, name: Y}]}",
     "unique"),
    ("      - {code: a, datatype: string, order: 0, description_vi: A}", "order"),
    ("      - {code: a, datatype: text, variable: false, required: true, description_vi: A}", "cannot be required"),
    ("      - {code: a, datatype: string, order: 1, description_vi: A}\n"
     "      - {code: a, datatype: string, order: 2, description_vi: B}", "code is used once"),
    ("      - {code: a, datatype: string, order: 1, description_vi: A}\n"
     "      - {code: b, datatype: string, order: 1, description_vi: B}", "order is used once"),
    ("      - {code: a, datatype: date, description_vi: A}", "datatype"),
])
def test_attributes_a_client_could_not_use_are_refused_with_their_line(attributes, problem):
    with pytest.raises(DirectoryError) as err:
        parse_directory(TEMPLATE.format(attributes=attributes))
    assert any(p.startswith("line 4 (fields)") and problem in p for p in err.value.problems), err.value.problems
