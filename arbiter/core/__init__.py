"""The core: verdicts, comparison, arbitration of two planners, loading, configuration, errors.

Pure decisions and values. Nothing here deletes, writes a store, or sends anything; the only I/O is
reading the operator's files (inventories, policies, configuration, plan files). Every other layer
of the arbiter builds on this one (``lint-imports``: the layers contract in ``pyproject.toml``).
"""
