"""Engagement reports: pure SQL aggregation over publications and their metric snapshots.

Nothing here imports Flask; the web pages, the exports, the JSON API and the public page all
call these functions, so every surface shows the same numbers from one implementation.
"""
