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
    if args.command == "scheduler":
        from workers.scheduler import run_scheduler

        run_scheduler(app)
        return
    from rq import Worker

    from feedback_app.extensions import db
    from workers.queues import queue, rq_connection

    with app.app_context():
        connection = rq_connection()
        queues = [queue(name, connection) for name in args.queues.split(",")]
        db.engine.dispose()  # nothing pooled crosses into a forked work horse
        Worker(queues, connection=connection).work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
