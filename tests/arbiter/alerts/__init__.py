"""Tests of arbiter.alerts."""
