"""One folder per resource: routes.py (thin views) and schemas.py (marshmallow)."""
