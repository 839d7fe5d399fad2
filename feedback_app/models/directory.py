"""The directory: areas of any depth, fields (categories), agencies and routing rules."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback_app.extensions import db
from feedback_app.models.types import JSONType, UTCDateTime, utcnow

AREA_LEVELS = ("province", "city", "town", "district", "ward", "commune", "township")
AGENCY_KINDS = ("department", "people_committee", "police", "utility", "other")


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"), index=True)
    level: Mapped[str] = mapped_column(sa.String(16))
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    # Materialised path of codes ("27/256/09169"): ancestors and subtrees without recursion.
    path: Mapped[str] = mapped_column(sa.String(400), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    lat: Mapped[float | None]
    lon: Mapped[float | None]

    parent: Mapped["Area | None"] = relationship(remote_side=[id])

    @property
    def ancestor_codes(self) -> list[str]:
        """This area first, the root last: the order routing rules are tried in."""
        return list(reversed(self.path.split("/")))


class Field(db.Model):
    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    service_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    description_vi: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    group_vi: Mapped[str] = mapped_column(sa.String(200), default="")
    group_en: Mapped[str] = mapped_column(sa.String(200), default="")
    keywords: Mapped[list] = mapped_column(JSONType, default=list)
    dedup_radius_m: Mapped[int] = mapped_column(default=200)
    resolution_evidence: Mapped[str] = mapped_column(sa.String(16), default="required")
    attributes: Mapped[list] = mapped_column(JSONType, default=list)
    # Answer templates staff can start from: [{"code", "text_vi", "text_en"}].
    answer_templates: Mapped[list] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(sa.String(300))
    name_en: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(32))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id"), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    webhook_url: Mapped[str | None] = mapped_column(sa.String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area] = relationship()


class RoutingRule(db.Model):
    __tablename__ = "routing_rules"
    __table_args__ = (sa.UniqueConstraint("field_id", "area_id", name="uq_routing_field_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(sa.ForeignKey("fields.id"))
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))

    agency: Mapped[Agency] = relationship()


class DirectoryVersion(db.Model):
    """One row per load: the directory's ETag and its audit trail."""

    __tablename__ = "directory_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(500))
    summary: Mapped[dict] = mapped_column(JSONType, default=dict)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
