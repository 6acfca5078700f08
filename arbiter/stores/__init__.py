"""The stores: the ports the purge is written against, and their implementations.

``ports`` holds the protocols (reading a tenant's slice, purge transactions, blob targets);
``sqlite`` and ``blobs`` implement them for the embedded workspace, ``postgres.store`` the primary
store over PostgreSQL; ``rows`` holds the row SQL that the SQLite primary store and the backup
domain's read-only and insert-only access share.
"""
