"""In-app notifications, derived from the audit log (no second table to keep in step)."""
