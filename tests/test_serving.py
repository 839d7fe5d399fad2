"""How gunicorn's workers close a connection (feedback_app/serving.py): at once when the client left nothing
unread, the graceful way (drain, then close) when it did; and, through a real gunicorn with the project's
gunicorn.conf.py, a body refused unread still gets its whole JSON 413 and the worker goes on serving."""
from __future__ import annotations

import contextlib
import json
import socket
import threading

import pytest

from feedback_app.serving import close_after_answer
from tests.e2e.conftest import gunicorn_server


@contextlib.contextmanager
def tcp_pair():
    """A server-side and a client-side socket of one loopback TCP connection."""
    with contextlib.closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        try:
            yield server, client
        finally:
            client.close()
            server.close()


def read_to_end(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def refuse_to_drain(sock, **kwargs):
    raise AssertionError("nothing was unread: the connection should have been closed at once")


def test_with_nothing_unread_the_connection_closes_without_waiting_for_the_client():
    with tcp_pair() as (server, client):
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert server.recv(1024).startswith(b"GET")
        server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        # The client has not closed: gunicorn's own close would wait here for its FIN.
        close_after_answer(server, graceful=refuse_to_drain)
        assert server.fileno() == -1
        assert read_to_end(client).endswith(b"\r\n\r\nok")


def test_when_the_client_has_already_gone_the_socket_is_just_closed():
    with tcp_pair() as (server, client):
        client.close()
        close_after_answer(server, graceful=refuse_to_drain)
        assert server.fileno() == -1


def test_unread_bytes_are_drained_before_the_close():
    drained = []

    def graceful(sock, timeout, max_drain):
        drained.append(read_to_end_after_fin(sock))
        sock.close()

    def read_to_end_after_fin(sock):
        sock.shutdown(socket.SHUT_WR)
        return read_to_end(sock)

    with tcp_pair() as (server, client):
        client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        server.recv(40)  # the headers' start only: the rest is left unread, like a body the app refused
        server.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
        closer = threading.Thread(target=close_after_answer, args=(server,), kwargs={"graceful": graceful})
        closer.start()
        answer = read_to_end(client)
        client.close()
        closer.join(timeout=30)
        assert not closer.is_alive()
    assert answer.startswith(b"HTTP/1.1 413")
    assert drained and drained[0].endswith(b"x" * 100)


@pytest.fixture
def small_limit_server(app):
    with gunicorn_server(app, redis_url=app.config["REDIS_URL"], workers=1,
                         extra_env={"MAX_CONTENT_LENGTH": "5000"}) as base:
        yield base


def test_an_oversized_body_gets_its_whole_413_over_a_real_gunicorn(small_limit_server):
    host, port = small_limit_server.removeprefix("http://").split(":")
    body = json.dumps({"title": "x", "description": "y" * 300_000}).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        answer = read_to_end(sock)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    error = json.loads(payload)
    assert set(error) == {"code", "status", "message", "errors"} and error["code"] == 413
    # And the worker serves the next client.
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_to_end(sock).startswith(b"HTTP/1.1 200")
