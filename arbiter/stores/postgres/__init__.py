"""The PostgreSQL primary store's foundations: its schema, its roles, and connecting as a role.

``schema`` holds the one reviewed SQL script that creates the schemas, the tables and the roles
(``docs/postgresql.md`` shows it verbatim) and ``provision``, which runs it; ``connection``
opens a connection as one role and turns the driver's failures into the project's errors;
``rows`` holds the read SQL that the store and the backup domain's read-only reader share;
``heads`` the primary audit head as a backup restore reads and advances it (two functions);
``store`` holds ``PostgresStore``, the ``PrimaryStore`` port over them (it deletes: the backup
domain never imports it). ``psycopg`` is imported under ``arbiter.stores`` only (an
import-linter contract).
"""
