"""Administration: staff accounts and API keys."""
