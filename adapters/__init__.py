"""The explicit registry of platform adapters.

Modules are imported lazily, on first use, so an adapter whose optional library is missing
(instagrapi, say) does not stop Warta from starting: asking for it raises
``AdapterUnavailable`` with a sentence saying what to install.
"""

from __future__ import annotations

import importlib

from adapters.base import BaseAdapter

#: platform name -> "module:Class". One line per platform; keep it sorted.
REGISTRY: dict[str, str] = {
    "facebook": "adapters.facebook:FacebookAdapter",
    "instagram": "adapters.instagram:InstagramAdapter",
    "instagram_graph": "adapters.instagram_graph:InstagramGraphAdapter",
    "sandbox": "adapters.sandbox:SandboxAdapter",
    "telegram": "adapters.telegram:TelegramAdapter",
    "threads": "adapters.threads:ThreadsAdapter",
    "tiktok": "adapters.tiktok:TikTokAdapter",
    "x": "adapters.x:XAdapter",
    "youtube": "adapters.youtube:YouTubeAdapter",
}


class AdapterUnavailable(LookupError):
    """An unknown platform, or one whose library is not installed."""


def platforms() -> list[str]:
    return sorted(REGISTRY)


def get_adapter_class(platform: str) -> type[BaseAdapter]:
    try:
        target = REGISTRY[platform]
    except KeyError:
        raise AdapterUnavailable(f"Unknown platform {platform!r}; known: "
                                 f"{', '.join(platforms())}.") from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterUnavailable(
            f"The {platform} adapter needs a library that is not installed ({exc.name}); "
            f"install Warta's dependencies again (pip install -e .).") from exc
    return getattr(module, class_name)
