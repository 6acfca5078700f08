"""Durable files: how the arbiter writes a file so that a crash leaves the old file or the new one.

Below every other layer but the core; holds no policy, only the file-system discipline.
"""
