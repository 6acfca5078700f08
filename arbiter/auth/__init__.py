"""Who may act: the two credential domains (primary, backup) and operators' signed approvals.

Depends only on ``arbiter.core``. A ``PrimaryCredentials`` checked against the store is the
capability every primary delete requires; ``BackupCredentials`` open the backup site; approvals
implement the two-person rule for manual purges, restores and safe-mode resets.
"""
