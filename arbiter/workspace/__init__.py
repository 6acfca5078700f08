"""The workspace: ``twinpurge.toml`` and the store, blobs, audit log and alerts it names."""
