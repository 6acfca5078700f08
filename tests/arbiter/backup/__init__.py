"""Tests of the backup site, the backup purge, restore, and the two credential domains."""
