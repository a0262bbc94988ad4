"""Reading Prometheus exposition text in tests, with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the text: (sample name, labels) -> value."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text: str, name: str, default: float | None = None, **labels: str) -> float:
    """The one sample called ``name`` with exactly these labels (``default`` when absent)."""
    got = samples(text).get((name, frozenset(labels.items())))
    if got is None:
        if default is not None:
            return default
        raise AssertionError(f"no sample {name}{labels} in:\n{text}")
    return got
