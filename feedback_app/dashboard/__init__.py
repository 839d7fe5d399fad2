"""The managers' dashboard: a server-rendered page over the reports service, for staff who sign in."""
