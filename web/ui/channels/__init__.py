"""Channels (a unit's social accounts): list, connect, reconnect, disable, move."""
