"""docs/postgresql.md shows the reviewed SQL script exactly as ``provision`` runs it."""

from __future__ import annotations

import re
from pathlib import Path

from arbiter.stores.postgres.schema import SCRIPT

ROOT = Path(__file__).resolve().parents[2]


def test_the_doc_shows_the_script_provision_runs() -> None:
    """The one ```sql block of docs/postgresql.md is ``SCRIPT``, byte for byte."""
    text = (ROOT / "docs" / "postgresql.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?\n)```", text, flags=re.DOTALL)
    assert [SCRIPT] == blocks


def test_the_script_holds_no_password() -> None:
    """The script is constant: no placeholder, and no password but the owner's ``PASSWORD NULL``."""
    assert [] == re.findall(r"\{(\w+)\}", SCRIPT)
    assert ["PASSWORD NULL"] == re.findall(r"PASSWORD \w+", SCRIPT)
