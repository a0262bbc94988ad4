"""Logging in and out, and the user's own profile (password, language)."""
