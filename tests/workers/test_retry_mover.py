"""RQ's due retries are moved to their queue by the scheduler process, not by a worker: a worker killed while
holding RQ's scheduler lock used to leave retries waiting up to ten minutes (seen in bench/chaos.py)."""
from __future__ import annotations

import time

from rq import Retry, SimpleWorker

from workers.queues import NOTIFICATIONS, queue
from workers.scheduler import RetryMover

WAIT_SECONDS = 30  # a bound on waiting, never a measure of speed


def fails_the_first_time(key: str) -> str:
    from rq import get_current_job

    job = get_current_job()
    if job.connection.incr(key) == 1:
        raise RuntimeError("first attempt fails")
    return "done"


def test_a_failed_job_comes_back_when_due_without_any_worker_scheduling(app):
    with app.app_context():
        q = queue(NOTIFICATIONS)
        q.empty()
        key = "test:retry-mover:attempts"
        q.connection.delete(key)
        job = q.enqueue(fails_the_first_time, key, retry=Retry(max=2, interval=1))
        SimpleWorker([q], connection=q.connection).work(burst=True, with_scheduler=False)
        assert job.get_status(refresh=True) == "scheduled" and q.count == 0
        # Nothing moves it but the scheduler process's tick (workers run without RQ's scheduler).
        mover, deadline = RetryMover(), time.monotonic() + WAIT_SECONDS
        while q.count == 0 and time.monotonic() < deadline:
            mover.tick()
            time.sleep(0.2)
        assert q.count == 1
        SimpleWorker([q], connection=q.connection).work(burst=True, with_scheduler=False)
        assert job.get_status(refresh=True) == "finished" and job.return_value() == "done"
        assert int(q.connection.get(key)) == 2
        mover.release()  # the next test's scheduler need not wait for the lock to expire


def test_a_lock_left_by_a_dead_scheduler_does_not_stop_the_mover_for_long(app):
    """Another scheduler's lock (a worker killed with it) is honoured until it expires, then taken."""
    from rq.scheduler import RQScheduler

    with app.app_context():
        q = queue(NOTIFICATIONS)
        lock = RQScheduler.get_locking_key(NOTIFICATIONS)
        q.connection.set(lock, "a-worker-killed-with-the-lock", ex=1)
        mover = RetryMover()
        mover.tick()
        assert NOTIFICATIONS not in mover.scheduler.acquired_locks
        deadline = time.monotonic() + WAIT_SECONDS
        while NOTIFICATIONS not in mover.scheduler.acquired_locks and time.monotonic() < deadline:
            time.sleep(0.3)
            mover.tick()
        assert NOTIFICATIONS in mover.scheduler.acquired_locks
        mover.release()
        assert q.connection.get(lock) is None


def sleeps_the_first_time(key: str) -> str:
    from rq import get_current_job

    if get_current_job().connection.incr(key) == 1:
        time.sleep(120)  # killed long before
    return "done"


def test_a_job_abandoned_by_a_killed_worker_is_retried_by_the_scheduler(app):
    """A worker SIGKILLed mid-job leaves the job 'started' in RQ's registry; once its heartbeat has expired,
    the scheduler's tick hands it back (RQ's own cleanup), instead of a worker's ten-minute maintenance."""
    import os
    import signal
    import subprocess
    import sys

    from rq.job import Job
    from rq.registry import StartedJobRegistry

    from tests.conftest import PROJECT_ROOT, process_env

    with app.app_context():
        q = queue(NOTIFICATIONS)
        q.empty()
        key = "test:retry-mover:abandoned"
        q.connection.delete(key)
        job = q.enqueue(fails_the_first_time.__module__ + ".sleeps_the_first_time", key, retry=Retry(max=2),
                        job_timeout=300)
        worker = subprocess.Popen([sys.executable, "-m", "workers", "worker", "--queues", NOTIFICATIONS],
                                  cwd=PROJECT_ROOT, env=process_env(app), start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + WAIT_SECONDS
            while job.get_status(refresh=True) != "started" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert job.get_status(refresh=True) == "started"
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        started = StartedJobRegistry(queue=q)
        entries = q.connection.zrange(started.key, 0, -1)
        assert entries  # still 'started', held by nobody
        # Time moves on past the dead worker's last heartbeat.
        q.connection.zadd(started.key, {entry: 1 for entry in entries}, xx=True)
        mover = RetryMover()
        mover.tick()
        assert Job.fetch(job.id, connection=q.connection).get_status() in ("queued", "scheduled")
        deadline = time.monotonic() + WAIT_SECONDS
        while q.count == 0 and time.monotonic() < deadline:
            mover.tick()
            time.sleep(0.2)
        SimpleWorker([q], connection=q.connection).work(burst=True, with_scheduler=False)
        assert job.get_status(refresh=True) == "finished" and job.return_value() == "done"
        mover.release()
