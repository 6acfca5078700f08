"""``python -m arbiter.cli.demo_step PHASE DIRECTORY TENANT INSTANT``: a backup step of the demo.

The demo runs its backup-domain steps here, in processes of their own whose environment holds
only the backup credentials (``arbiter.cli.demo.backup_step``).
"""

from __future__ import annotations

import sys

from arbiter.cli.demo import backup_step

if __name__ == "__main__":
    sys.exit(backup_step(sys.argv[1:]))
