"""The reference endpoint of bench/intake.py: validate with marshmallow, insert one row, nothing else."""
from __future__ import annotations

import os
import uuid

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, jsonify, request

engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=4, pool_pre_ping=True)
metadata = sa.MetaData()
reference_items = sa.Table(
    "bench_reference_items", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("category", sa.String(64)),
    sa.Column("address", sa.String(500)),
)


def create_table() -> None:
    """Called once by bench/intake.py before the workers start: two workers racing to create it would crash one."""
    metadata.create_all(engine)


class ReferenceSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    description = ma.fields.String(required=True, validate=ma.validate.Length(10, 4000))
    title = ma.fields.String(allow_none=True)
    category = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    contact = ma.fields.Dict(allow_none=True)
    consent_public = ma.fields.Boolean()


app = Flask(__name__)
schema = ReferenceSchema()


@app.post("/api/v1/feedback")
def create():
    try:
        data = schema.load(request.get_json())
    except ma.ValidationError as err:
        return jsonify(errors=err.messages), 422
    item_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(reference_items.insert().values(
            id=item_id, description=data["description"], category=data.get("category"), address=data.get("address"),
        ))
    return jsonify(id=str(item_id)), 201
