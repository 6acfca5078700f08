"""Tests of arbiter.manual."""
