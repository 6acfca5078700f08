"""Tests of arbiter.core."""
