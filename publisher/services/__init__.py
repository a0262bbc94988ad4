"""Use cases. Each takes a ``Core`` or a database session plus plain arguments; none imports
Flask. Routes, the CLI and the worker call these and only these to change state."""
