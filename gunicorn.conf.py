"""gunicorn's settings for the API. gunicorn reads this file from its working directory, so `make run`,
bench/load.py, bench/chaos.py, the end-to-end tests and a deployment started from the checkout all run the
same way; a flag on the command line (or in GUNICORN_CMD_ARGS) overrides a setting here.

Each worker process serves two requests at a time (gunicorn's gthread worker) and keeps a client's connection
open between its requests. A sync worker holds its one request while it waits on PostgreSQL and Redis (a
submission's commit waits for the disk): under bench/load.py it took 5.5 ms of wall time for 2.5 ms of CPU,
so its two workers were full while a core was still free, and every slow answer (a report, an officer's
action) held up the queue behind it. With a second thread the wait of one request is the other's CPU time.
On 6 December, one run after the other on the same machine (`bench/load.py`, 300 s at 200 submissions/s):
p95 330 ms with two threads against 1,100 ms with sync workers, and the load generator's CPU 0.17 cores
against 0.26 (no new TCP connection per request). In a second pair both saturated (p95 1.1 s), the threads
after 240 s, the sync workers from the start. A threaded worker takes up to 15% more CPU per request.

The keep-alive (75 s) outlasts the idle gaps of the clients in front of it: a load balancer or app backend
that keeps connections to the API must close an idle one before the API does (nginx: `keepalive_timeout`
in its upstream block, 60 s by default), or a request can be sent on a connection the API is closing.
"""
import os

threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "75"))
