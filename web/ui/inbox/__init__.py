"""Suara Warga: the citizens' inbox (issue 19)."""
