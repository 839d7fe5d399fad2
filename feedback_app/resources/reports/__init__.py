"""Processing-rate reports, the overdue list and report exports (staff)."""
