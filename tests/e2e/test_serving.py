"""How gunicorn serves the API (gunicorn.conf.py, read from the checkout): requests of one worker served side by
side, and a client's connection kept between its requests."""
from __future__ import annotations

import http.client
import socket
import time
from urllib.parse import urlsplit

from tests.e2e.conftest import gunicorn_server


def test_one_worker_answers_a_second_client_while_a_first_is_stuck_and_keeps_its_connection(app):
    """A sync worker serves one request at a time: a client that sends half a request holds it, and a
    request waiting on the database holds it the same way. With two threads the second client is answered
    meanwhile, on a connection kept open for its next request."""
    with gunicorn_server(app, redis_url=app.config["REDIS_URL"], workers=1) as base:
        address = urlsplit(base)
        stuck = socket.create_connection((address.hostname, address.port))
        try:
            stuck.sendall(b"GET /healthz HTTP/1.1\r\nHost: api\r\n")  # the headers never end
            time.sleep(0.5)  # let the worker take that connection first (not a measured time)
            client = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
            client.request("GET", "/healthz")
            first = client.getresponse()
            assert first.status == 200 and not first.will_close  # no "Connection: close"
            first.read()
            kept = client.sock
            client.request("GET", "/readyz")
            second = client.getresponse()
            assert second.status == 200 and client.sock is kept
            client.close()
        finally:
            stuck.close()
