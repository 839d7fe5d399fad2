"""The directory as the app's form needs it."""
