"""Domain logic as plain functions: they flush, never commit."""
