"""Warta's application core: settings, models, services, the worker and the CLI.

Importing this package has no side effects: no app is built and no database is opened.
"""
