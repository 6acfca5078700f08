"""Alerts: the alert value, the alerter that fans it out, and the sinks that carry it."""
