"""The PostgreSQL primary store's foundations: its schema, its roles, and connecting as a role.

``schema`` holds the one reviewed SQL script that creates the schemas, the tables and the roles
(``docs/postgresql.md`` shows it verbatim) and ``provision``, which runs it; ``connection``
opens a connection as one role and turns the driver's failures into the project's errors;
``store`` holds ``PostgresStore``, the ``PrimaryStore`` port over them. ``psycopg`` is imported
under ``arbiter.stores`` only (an import-linter contract).
"""
