"""Tests of arbiter.workspace: the workspace and its credential capability."""
