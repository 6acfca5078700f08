"""The blob directory's batch delete: what it removes, what it reports, what it never touches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter import BlobDirectory, InputError, ObjectId
from tests.builders import event, obj, tenant, workspace

if TYPE_CHECKING:
    from pathlib import Path

FILES = [ObjectId("blob", f"t/f{i}") for i in range(3)]


def test_delete_many_removes_reports_and_skips_missing(tmp_path: Path) -> None:
    """Files go; a missing file is neither removed nor failed; an unsafe key fails alone."""
    inventory = {
        "tenants": [tenant("t", event("cancelled", "2026-01-01T00:00:00Z"))],
        "objects": [obj(o.key, store="blob") for o in FILES],
    }
    ws = workspace(tmp_path / "ws", inventory, payloads=dict.fromkeys(FILES, b"bytes"))
    try:
        blobs = ws.blobs.authorize(ws.require_credentials("a test"), ws.store)
        unsafe = ObjectId("blob", "../escape")
        removed, failed = blobs.delete_many(
            [FILES[0], ObjectId("blob", "t/none"), unsafe, FILES[2]]
        )
        left = [o for o in FILES if blobs.read(o) is not None]
    finally:
        ws.close()
    assert ([FILES[0], FILES[2]], [unsafe], [True], [FILES[1]]) == (
        removed,
        [o for o, _ in failed],
        [isinstance(e, InputError) for _, e in failed],
        left,
    )


def test_a_link_leading_out_of_the_blob_directory_is_refused(tmp_path: Path) -> None:
    """A symlinked directory or file pointing outside the root is refused, also after a hit."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret").write_bytes(b"not ours")
    blobs = BlobDirectory(tmp_path / "root", ("blob",))
    (tmp_path / "root" / "blob").mkdir(parents=True)
    (tmp_path / "root" / "blob" / "out").symlink_to(outside / "sub")
    (tmp_path / "root" / "blob" / "file").symlink_to(outside / "secret")
    inside = blobs.path(ObjectId("blob", "fine"))
    refused = []
    for key in ("out/x", "file", "out/x"):
        try:
            blobs.path(ObjectId("blob", key))
        except InputError as exc:
            refused.append(exc.field)
    assert (blobs.root / "blob" / "fine", ["key", "key", "key"]) == (inside, refused)
