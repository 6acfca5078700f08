"""The ``twinpurge`` command: a thin shell over the ``arbiter`` API.

``root`` holds the main group and the workspace commands, ``manual`` the manual-purge commands,
``backup`` the backup-domain commands, ``demo`` the demo; ``main`` is the console entry point.
"""

from arbiter.cli.root import main

__all__ = ["main"]
