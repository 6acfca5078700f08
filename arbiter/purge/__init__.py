"""The purge engine: the guarded purger, its outcomes, and the restore archive.

The planners are trusted for nothing here: every guard re-reads the store.
"""
