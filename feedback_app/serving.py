"""How gunicorn's workers close a connection after the answer (installed by `gunicorn.conf.py`).

gunicorn 27 closes every connection "gracefully" (RFC 9112, section 9.6): it sends its FIN, then reads
until the peer closes too, for up to 2 s, so that request bytes it never read cannot make the kernel answer
with a reset that destroys the response in flight. A sync worker serves nobody while it waits: behind a
load balancer that is a network round trip per request, and on a busy machine however long the peer takes
to be scheduled (py-spy on a worker under `bench/load.py` found 14% of its time there).

The reset can only happen when request bytes are still unread. So: when nothing is left to read, send the
FIN and close at once; when something is (a body the app refused without reading, say an oversized upload,
or a client that pipelined), drain it the graceful way, as gunicorn does.
"""
from __future__ import annotations

import socket

# Bound by what gunicorn itself uses; kept here so that the fallback can be tested without gunicorn's.
DRAIN_TIMEOUT = 2.0
DRAIN_MAX = 65536


def _unread(sock: socket.socket) -> bool | None:
    """True: bytes wait to be read; False: nothing does; None: the peer has closed, or the socket failed."""
    try:
        peeked = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True if peeked else None


def close_after_answer(sock: socket.socket, timeout: float = DRAIN_TIMEOUT, max_drain: int = DRAIN_MAX,
                       graceful=None) -> None:
    """Close a client connection once the answer is written (replaces gunicorn.util.close_graceful)."""
    state = _unread(sock)
    if state:
        if graceful is None:
            from gunicorn.util import close_graceful as graceful  # noqa: PLC0415 (gunicorn's own, unpatched)
        graceful(sock, timeout=timeout, max_drain=max_drain)
        return
    try:
        if state is False:
            sock.shutdown(socket.SHUT_WR)  # the FIN goes after the answer's last byte
    except OSError:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def install() -> None:
    """Make gunicorn's workers close connections with `close_after_answer` (the sync and gthread workers call
    `gunicorn.util.close_graceful` through the module)."""
    import gunicorn.util

    original = getattr(gunicorn.util, "_phananh_original_close", None) or gunicorn.util.close_graceful

    def close(sock, timeout=DRAIN_TIMEOUT, max_drain=DRAIN_MAX):
        close_after_answer(sock, timeout=timeout, max_drain=max_drain, graceful=original)

    gunicorn.util._phananh_original_close = original
    gunicorn.util.close_graceful = close
