"""Month and week calendar of scheduled and published items."""
