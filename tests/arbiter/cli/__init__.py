"""Tests of arbiter.cli."""
