"""Tests of arbiter.audit."""
