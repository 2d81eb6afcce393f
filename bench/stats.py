"""Samples, their min/median/max, and the printed table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Series:
    """Repeated measurements of one figure; the median is the figure, min and max show the spread."""

    key: str
    unit: str
    samples: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.samples.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


@dataclass(frozen=True)
class Row:
    key: str
    unit: str
    value: float
    low: float | None = None
    high: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render(rows: list[Row]) -> str:
    header = ("figure", "unit", "min", "median", "max", "target", "")
    lines = [
        (
            row.key,
            row.unit,
            fmt(row.low),
            fmt(row.value),
            fmt(row.high),
            row.target,
            "" if row.met is None else ("met" if row.met else "MISSED"),
        )
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    aligned_right = {2, 3, 4}

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(width) if index in aligned_right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), line(tuple("-" * width for width in widths))]
    for row, cells in zip(rows, lines, strict=True):
        out.append(line(cells))
        if row.note:
            out.append(f"    {row.note}")
    return "\n".join(out)
