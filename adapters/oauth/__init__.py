"""Pure helpers for connecting accounts through each platform's OAuth flow (no Flask)."""
