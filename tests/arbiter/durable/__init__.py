"""Tests of arbiter.durable."""
