"""Items with histories over several months, made through the real API at moments in the past."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import feedback_app.models.types as model_types

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "correct horse battery"
_real_datetime = model_types.datetime


class _TravelledDatetime(_real_datetime):
    """datetime whose now() answers the moment a test travelled to (every utcnow() in the app reads it)."""

    moment: datetime | None = None

    @classmethod
    def now(cls, tz=None):
        if cls.moment is None:
            return _real_datetime.now(tz)
        return cls.moment.astimezone(tz) if tz else cls.moment.astimezone(VIETNAM).replace(tzinfo=None)


@contextlib.contextmanager
def clock_at(moment: datetime):
    """Run the app's services (in this process) as if it were `moment`: intake, actions, clocks, ratings."""
    assert moment.tzinfo is not None and moment <= _real_datetime.now(timezone.utc), "only the past"
    previous = model_types.datetime
    _TravelledDatetime.moment = moment
    model_types.datetime = _TravelledDatetime
    try:
        yield
    finally:
        model_types.datetime = previous
        _TravelledDatetime.moment = None


def local_now() -> datetime:
    return _real_datetime.now(VIETNAM)


def month_start(months_back: int) -> datetime:
    """Midnight (local) on the 1st of the month `months_back` before this one."""
    now = local_now()
    index = now.year * 12 + now.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=VIETNAM)


# (category, area) -> the agency the demo directory routes it to.
TRAFFIC_CITY = ("traffic", "256")  # UBND-TPBN, thành phố Bắc Ninh
ENVIRONMENT_YEN_PHONG = ("environment", "258")  # UBND-HYP, huyện Yên Phong
WATER_TU_SON = ("water", "261")  # NSBN, thành phố Từ Sơn
TEXTS = {
    "traffic": "Đường Lý Thái Tổ đoạn trước số 12 có ổ gà rất sâu, xe máy đi qua rất nguy hiểm.",
    "environment": "Nhà máy ở khu công nghiệp xả khói đen và mùi hôi suốt đêm, người dân không ngủ được.",
    "water": "Nước máy nhà tôi có màu vàng đục và mùi clo nặng từ ba ngày nay.",
    None: "Đề nghị cơ quan chức năng xem xét giúp tôi việc này, tôi đã chờ rất lâu.",
}


@dataclass
class Story:
    """What happens to one item: its field and area, when it arrives and what the agency does, hours later."""

    place: tuple[str | None, str]
    outcome: str  # open | accepted | resolved | rejected
    resolve_after: timedelta = timedelta(hours=3)
    rating: int | None = None


@dataclass
class Seeded:
    manager: str = "lanh.dao"
    headers: dict = field(default_factory=dict)  # username -> Authorization header
    items: list[dict] = field(default_factory=list)


def _act(client, headers: dict, item_id: str, body: dict) -> dict:
    etag = client.get(f"/api/v1/triage/items/{item_id}", headers=headers).headers["ETag"]
    response = client.post(f"/api/v1/triage/items/{item_id}/actions", json=body,
                           headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _tell(client, seeded: Seeded, story: Story, created: datetime, step: timedelta) -> dict:
    """Submit at `created`; accept or reject `step` later, resolve `resolve_after` later, rate `step` after that."""
    category, area = story.place
    with clock_at(created):
        body = {"description": TEXTS[category], "area_code": area, "consent_public": True}
        if category:
            body["category"] = category
        response = client.post("/api/v1/feedback", json=body)
        assert response.status_code == 201, response.get_json()
        item = response.get_json()
    officer = {"traffic": "gt.tpbn", "environment": "mt.yenphong", "water": "nuoc.bn", None: None}[category]
    if story.outcome in ("accepted", "resolved"):
        with clock_at(created + step):
            _act(client, seeded.headers[officer], item["id"], {"action": "accept"})
    if story.outcome == "resolved":
        with clock_at(created + story.resolve_after):
            _act(client, seeded.headers[officer], item["id"], {
                "action": "resolve", "text": "Đơn vị đã kiểm tra và khắc phục xong.",
                "evidence_reason": "Cán bộ kiểm tra trực tiếp tại hiện trường."})
        if story.rating:
            with clock_at(created + story.resolve_after + step):
                rated = client.post(f"/api/v1/feedback/{item['tracking_code']}/rating",
                                    json={"rating": story.rating, "citizen_token": item["citizen_token"]})
                assert rated.status_code == 201, rated.get_json()
    if story.outcome == "rejected":
        with clock_at(created + step):
            _act(client, seeded.headers["dieu.phoi"], item["id"], {
                "action": "reject", "reason": "out_of_scope", "message": "Nội dung không thuộc phạm vi tiếp nhận."})
    return {**item, "created": created, "story": story}


def seed_province(client, make_staff) -> Seeded:
    """A manager, a coordinator, three agencies' officers, and items over five months, some late, some open."""
    seeded = Seeded()
    seeded.headers[seeded.manager] = make_staff(seeded.manager, "manager")
    seeded.headers["dieu.phoi"] = make_staff("dieu.phoi", "coordinator")
    seeded.headers["gt.tpbn"] = make_staff("gt.tpbn", "officer", "UBND-TPBN")
    seeded.headers["mt.yenphong"] = make_staff("mt.yenphong", "officer", "UBND-HYP")
    seeded.headers["nuoc.bn"] = make_staff("nuoc.bn", "officer", "NSBN")

    # This month: between its first moment and now (however early in the month), every step inside it.
    start, now = month_start(0), local_now()
    span = (now - start) / 20
    this_month = [
        Story(TRAFFIC_CITY, "resolved", resolve_after=span / 2, rating=5),
        Story(TRAFFIC_CITY, "accepted"),
        Story(ENVIRONMENT_YEN_PHONG, "resolved", resolve_after=span / 2),
        Story(ENVIRONMENT_YEN_PHONG, "open"),
        Story(WATER_TU_SON, "open"),
        Story(WATER_TU_SON, "rejected"),
        Story((None, "256"), "open"),  # no field given and no model: the triage desk's, no agency yet
    ]
    for n, story in enumerate(this_month):
        seeded.items.append(_tell(client, seeded, story, start + span * (n + 1), step=span / 4))

    # Earlier months: the 10th at 9:00; a late one is resolved 18 days on (more than 5 working days).
    late = timedelta(days=18)
    earlier = {
        1: [Story(TRAFFIC_CITY, "resolved", resolve_after=late, rating=2),
            Story(TRAFFIC_CITY, "resolved"),
            Story(ENVIRONMENT_YEN_PHONG, "resolved", rating=4),
            Story(WATER_TU_SON, "open")],
        2: [Story(ENVIRONMENT_YEN_PHONG, "resolved", resolve_after=late),
            Story(WATER_TU_SON, "resolved"),
            Story(ENVIRONMENT_YEN_PHONG, "open")],
        4: [Story(TRAFFIC_CITY, "resolved", rating=5),
            Story(WATER_TU_SON, "resolved", resolve_after=late)],
    }
    for months_back, stories in earlier.items():
        day = month_start(months_back).replace(day=10)
        for n, story in enumerate(stories):
            created = datetime.combine(day.date(), time(9, 0), VIETNAM) + timedelta(hours=n)
            seeded.items.append(_tell(client, seeded, story, created.astimezone(timezone.utc),
                                      step=timedelta(minutes=40)))
    return seeded
