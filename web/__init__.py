"""Warta's web layer: the Flask UI and the JSON API, thin over publisher.services."""
