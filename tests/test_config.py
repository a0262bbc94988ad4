"""Settings are parsed strictly: a bad value names its variable instead of being guessed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.config import SettingsError, load_settings, parse_duration


def test_defaults_work_without_any_setup():
    s = load_settings({}, dotenv=None)
    assert s.database_url.startswith("sqlite:///")
    assert s.timezone == "Asia/Jakarta" and s.missed_after == timedelta(hours=6)
    assert s.poll_seconds == 1.0 and s.allow_self_approval is False


@pytest.mark.parametrize("name,value", [
    ("WARTA_POLL_SECONDS", "cepat"), ("WARTA_WORKER_THREADS", "0"),
    ("WARTA_TIMEZONE", "Asia/Bandung"), ("WARTA_ALLOW_SELF_APPROVAL", "mungkin"),
    ("WARTA_MISSED_AFTER", "enam jam"), ("WARTA_PUBLIC_URL", "warta.example"),
    ("WARTA_MAX_UPLOAD_MB", "-1"),
])
def test_bad_values_are_refused_by_name(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, dotenv=None)


def test_durations():
    assert parse_duration("90", "X") == timedelta(seconds=90)
    assert parse_duration("15m", "X") == timedelta(minutes=15)
    assert parse_duration("2d", "X") == timedelta(days=2)


def test_platform_settings_split_base_url_and_knobs():
    s = load_settings({"WARTA_YOUTUBE_API_URL": "http://127.0.0.1:9/",
                       "WARTA_YOUTUBE_CHUNK_SIZE": "262144",
                       "WARTA_INSTAGRAM_GRAPH_API_URL": "http://g/",
                       "WARTA_INSTAGRAM_MIN_GAP_SECONDS": "60"}, dotenv=None)
    assert s.platform_settings("youtube") == ("http://127.0.0.1:9/", {"chunk_size": "262144"})
    assert s.platform_settings("instagram") == (None, {"min_gap_seconds": "60"})
    assert s.platform_settings("instagram_graph")[0] == "http://g/"
