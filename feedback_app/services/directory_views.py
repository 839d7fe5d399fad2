"""The directory's public lists: fields, the area tree and agencies, in display order."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from feedback_app.extensions import db
from feedback_app.models import Agency, Area, Field
from feedback_app.services.directory import find_area


def list_categories() -> list[Field]:
    return db.session.scalars(sa.select(Field).where(Field.active.is_(True)).order_by(Field.id)).all()


def list_areas(*, tree: bool = False, parent: str | None = None) -> list[dict]:
    parent_area = aliased(Area)
    query = sa.select(Area, parent_area.code).outerjoin(parent_area, parent_area.id == Area.parent_id)
    if parent:
        parent_area = find_area(parent)
        if parent_area is None:
            return []
        query = query.where(Area.parent_id == parent_area.id)
    rows = db.session.execute(query.order_by(Area.depth, Area.code)).all()
    nodes = [
        {"code": a.code, "parent_code": p, "level": a.level, "name_vi": a.name_vi, "name_en": a.name_en,
         "lat": a.lat, "lon": a.lon}
        for a, p in rows
    ]
    if not tree:
        return nodes
    by_code = {n["code"]: {**n, "children": []} for n in nodes}
    roots = []
    for node in by_code.values():
        holder = by_code.get(node["parent_code"])
        (holder["children"] if holder else roots).append(node)
    return roots


def list_agencies(*, area: str | None = None, kind: str | None = None) -> list[dict]:
    query = (
        sa.select(Agency, Area.code)
        .join(Area, Area.id == Agency.area_id)
        .where(Agency.active.is_(True))
        .order_by(Area.depth, Agency.code)
    )
    if area:
        query = query.where(Area.code == area)
    if kind:
        query = query.where(Agency.kind == kind)
    return [
        {"code": a.code, "name_vi": a.name_vi, "name_en": a.name_en, "kind": a.kind, "area_code": code}
        for a, code in db.session.execute(query).all()
    ]
