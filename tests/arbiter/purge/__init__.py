"""Tests of arbiter.purge."""
