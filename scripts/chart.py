#!/usr/bin/env python3
"""Draws docs/benchmarks/invalidation.svg from docs/benchmarks/invalidation.json (standard library only).

Usage: python3 scripts/chart.py [docs/benchmarks/invalidation.json] [docs/benchmarks/invalidation.svg]
One horizontal bar per case and deployment, the median time in milliseconds on a log scale.
"""
import json
import math
import sys
from xml.sax.saxutils import escape


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks/invalidation.json"
    target = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks/invalidation.svg"
    with open(source, encoding="utf-8") as f:
        data = json.load(f)

    rows = [r for r in data["results"] if not r["case"].startswith("namespace")] + \
           [r for r in data["results"] if r["case"].startswith("namespace")]
    colours = {"single node": "#3b6ea8", "3-node cluster": "#d9822b"}
    label_width, bar_width, row_height, top = 390, 520, 22, 60
    height = top + row_height * len(rows) + 50
    highest = max(r["medianMs"] for r in rows)
    lowest = min(r["medianMs"] for r in rows)
    log_min, log_max = math.log10(max(lowest / 2, 0.1)), math.log10(highest * 1.5)

    def x(ms: float) -> float:
        return label_width + bar_width * (math.log10(ms) - log_min) / (log_max - log_min)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 120}" height="{height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">Invalidation: {data["matching"]:,} matching keys among {data["total"]:,} (median of {data["runs"]} runs, ms, log scale)</text>',
        f'<text x="10" y="42" fill="#555">Namespace rows: {1000} bumps in a row, whatever the number of entries</text>',
    ]
    for i, row in enumerate(rows):
        y = top + i * row_height
        colour = colours.get(row["deployment"], "#777")
        parts.append(f'<text x="10" y="{y + 14}">{escape(row["case"])} ({escape(row["deployment"])})</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{max(x(row["medianMs"]) - label_width, 1):.1f}" height="{row_height - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{x(row["medianMs"]) + 4:.1f}" y="{y + 14}">{row["medianMs"]:,.1f}</text>')
    for tick in (1, 10, 100, 1000, 10000):
        if log_min <= math.log10(tick) <= log_max:
            tx = x(tick)
            parts.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{height - 40}" stroke="#ddd"/>')
            parts.append(f'<text x="{tx:.1f}" y="{height - 25}" text-anchor="middle" fill="#555">{tick:,} ms</text>')
    parts.append('</svg>')
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
