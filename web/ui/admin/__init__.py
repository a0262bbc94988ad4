"""Administration: units, users, audit log, pauses and freeze windows."""
