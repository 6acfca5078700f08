"""Tests of arbiter.auth."""
