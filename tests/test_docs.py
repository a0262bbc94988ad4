"""The README and .env.example name every setting Warta reads, so they stay true."""

from __future__ import annotations

import re
from pathlib import Path

from publisher.config import VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def test_every_core_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in VARIABLES:
        assert f"`{name}`" in readme, f"{name} missing from the README's configuration table"
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} missing from .env.example"


def test_every_platform_setting_the_code_reads_is_documented():
    readme = (ROOT / "README.md").read_text()
    read = set()
    # knobs are read as settings.get("name") or, after ``s = ctx.settings``, s.get("name")
    pattern = r'(?:settings|\bs)\.get\("([a-z_]+)"'
    for path in (ROOT / "adapters").rglob("*.py"):
        for knob in re.findall(pattern, path.read_text()):
            read.add((path.stem, knob))
    assert len(read) >= 20, "the scan must find the adapters' settings reads"
    platforms = {"facebook": "FACEBOOK", "instagram_graph": "INSTAGRAM_GRAPH",
                 "instagram": "INSTAGRAM", "x": "X", "_x_errors": "X", "youtube": "YOUTUBE",
                 "_youtube_meta": "YOUTUBE", "_google": "YOUTUBE", "telegram": "TELEGRAM",
                 "tiktok": "TIKTOK", "_tiktok": "TIKTOK", "threads": "THREADS"}
    missing = [f"WARTA_{platforms[mod]}_{knob.upper()}" for mod, knob in read
               if mod in platforms and knob not in ("outbox", "client_factory", "media_type")
               and f"WARTA_{platforms[mod]}_{knob.upper()}" not in readme]
    assert not missing, f"undocumented adapter settings: {missing}"


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    """CI must run what a newcomer runs: the README's one-line test command, letter for
    letter (the start command is the same shape, checked by hand in the README)."""
    import re

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Run the tests", 1)[1]
    command = re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()  # type: ignore[union-attr]
    assert "\n" not in command and "pytest" in command
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
