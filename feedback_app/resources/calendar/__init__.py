"""The working calendar's decreed days (admins)."""
