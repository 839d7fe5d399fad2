"""Agency staff and the triage desk: queues, item detail, actions, evidence."""
