"""Arithmetic on sorted, disjoint half-open spans `[start, end)` of integer UTC seconds."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

Span = tuple[int, int]


def normalize(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with overlapping or touching spans merged and empty ones dropped."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Where both normalized lists hold."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """What of normalized `a` lies outside normalized `b`."""
    out: list[Span] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def at_least(spans: Sequence[Span], length: int) -> list[Span]:
    return [span for span in spans if span[1] - span[0] >= length]


def holding(spans: Sequence[Span], starts: Sequence[int], start: int, end: int) -> Span | None:
    """The span of normalized `spans` (whose starts are `starts`) that contains all of `[start, end)`."""
    index = bisect_right(starts, start) - 1
    if index < 0:
        return None
    span = spans[index]
    return span if span[1] >= end and span[1] > start else None


def covers(spans: Sequence[Span], start: int, end: int) -> bool:
    return holding(spans, [s for s, _ in spans], start, end) is not None
