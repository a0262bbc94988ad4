from web.api import bp  # noqa: F401
