"""The tamper-evident audit log: hash-chained records and the head that seals them."""
