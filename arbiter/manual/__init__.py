"""Manual purges: bound plan files, two-person approvals, execution, restore and status."""
