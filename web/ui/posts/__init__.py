"""Posts: composer, list, detail, approvals, media uploads."""
