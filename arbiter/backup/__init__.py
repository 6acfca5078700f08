"""The backup domain: the encrypted backup site, snapshots, the backup purge and restores.

Holds the backup credentials and never the primary ones; it reaches the primary store only read-only
(``primary_access.PrimaryReader``) or insert-only (``primary_access.PrimaryRestorer``). No module
here has an import path to code that deletes primary data (import-linter).
"""
