"""gunicorn reads this file from the working directory (`gunicorn wsgi:app` run at the project's root).
Command-line options still win: `--workers`, `--bind` and the rest are given where gunicorn is started
(Makefile, README's deployment guide)."""
from feedback_app.serving import install


def post_fork(server, worker):
    # Close each connection as soon as the answer is out when the client left nothing unread, instead of
    # waiting for the client's FIN (feedback_app/serving.py says why).
    install()
