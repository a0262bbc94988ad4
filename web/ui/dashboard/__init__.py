"""The start page: what is going out, what waits for me, what is broken."""
