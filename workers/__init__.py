"""RQ workers: queues by purpose, thin jobs (ids in, ids out), the worker and scheduler entry points."""
