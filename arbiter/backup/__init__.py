"""The backup domain: the encrypted backup site, snapshots, the backup purge and restores.

Holds the backup credentials and never the primary ones; it reaches the primary store only read-only
or insert-only (``primary_access``: SQLite directly, PostgreSQL through ``postgres_access`` as the
backup domain's own roles, whose passwords ``roles`` sets from the backup key). No module here has
an import path to code that deletes primary data (import-linter).
"""
