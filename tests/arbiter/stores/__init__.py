"""Tests of arbiter.stores."""
