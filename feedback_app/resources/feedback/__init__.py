"""Citizen intake: submit, track, add information, and the public feed."""
