"""`python -m workers worker` runs RQ workers; `python -m workers scheduler` runs the periodic tasks."""
from __future__ import annotations

import argparse
import logging


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="an RQ worker for the queues (all by default)")
    worker.add_argument("--queues", default="notifications,clocks,maintenance")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    sub.add_parser("scheduler", help="the outbox relay, the clock watcher and the reconciler (one at a time)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from workers.context import worker_app

    app = worker_app()
    with app.app_context():
        from feedback_app.extensions import db
        from workers.queues import database_settings_warnings, rq_connection, warn_about_redis_settings

        warn_about_redis_settings(rq_connection(), logging.getLogger("workers"))
        try:
            for warning in database_settings_warnings(db.engine):
                logging.getLogger("workers").warning(warning)
        except Exception as exc:  # the database down at start: the worker retries; nothing to check yet
            logging.getLogger("workers").warning("database settings unchecked at start (%s)", type(exc).__name__)
    if args.command == "scheduler":
        from workers.scheduler import run_scheduler

        run_scheduler(app)
        return
    from rq import SimpleWorker

    from feedback_app.extensions import db
    from workers.queues import queue, rq_connection

    with app.app_context():
        connection = rq_connection()
        queues = [queue(name, connection) for name in args.queues.split(",")]
        # Jobs run in this process (SimpleWorker): what they need is loaded once, here.
        import feedback_app.services.notifications  # noqa: F401
        import feedback_app.services.report_exports  # noqa: F401
        import workers.jobs  # noqa: F401
        from feedback_app.services.directory import directory

        try:
            directory()
        except Exception:  # a database not reachable yet: the first job loads it then
            logging.getLogger("workers").warning("directory not preloaded; jobs will load it")
        db.session.remove()
    # Outside the app context: each job pushes its own (workers/jobs.py), with a fresh session.
    # A job that outlives its timeout is stopped by SIGALRM; a worker that dies (OOM, SIGKILL) leaves
    # its job to RQ's abandoned-job handling and the scheduler's reconciler.
    # RQ's scheduler (due retries) runs in `python -m workers scheduler`, not in the workers (RetryMover).
    SimpleWorker(queues, connection=connection).work(burst=args.burst, with_scheduler=False)

if __name__ == "__main__":
    main()
