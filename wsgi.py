"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""
from feedback_app import create_app

app = create_app()
