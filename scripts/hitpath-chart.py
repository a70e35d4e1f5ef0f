#!/usr/bin/env python3
"""Draws docs/benchmarks/hitpath.svg (standard library only) from the two hit-path results in the repository:
docs/benchmarks/hitpath-bdn.csv (BenchmarkDotNet's CSV report, copied there by scripts/hitpath.sh) and
docs/benchmarks/load.md (the table scripts/load.sh writes).

Usage: python3 scripts/hitpath-chart.py [bdn.csv] [load.md] [out.svg]
Left: time and bytes allocated per request in process. Right: requests per second over loopback with wrk.
"""
import csv
import re
import sys
from xml.sax.saxutils import escape

BDN = sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks/hitpath-bdn.csv"
LOAD = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks/load.md"
OUT = sys.argv[3] if len(sys.argv) > 3 else "docs/benchmarks/hitpath.svg"


def number(text: str) -> float:
    """'16.20 μs' -> 16.2 (µs); '8.52 KB' -> 8.52 (KB); '1,234.5 ns' -> 1.2345 (µs)."""
    value = float(re.sub(r"[^0-9.]", "", text.split()[0]))
    unit = text.split()[1] if len(text.split()) > 1 else ""
    return {"ns": value / 1000, "ms": value * 1000, "B": value / 1024, "MB": value * 1024}.get(unit, value)


def bars(title, unit, rows, x0, y0, width, colour):
    """rows: [(label, value)]; returns SVG elements for one horizontal bar chart."""
    out = [f'<text x="{x0}" y="{y0}" font-weight="bold">{escape(title)}</text>']
    highest = max(v for _, v in rows) or 1
    label_width, row = 250, 20
    for i, (label, value) in enumerate(rows):
        y = y0 + 12 + i * row
        w = (width - label_width - 70) * value / highest
        out.append(f'<text x="{x0 + label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{x0 + label_width}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="{colour}"/>')
        out.append(f'<text x="{x0 + label_width + w + 4:.1f}" y="{y + 13}">{value:,.1f} {unit}</text>' if unit else f'<text x="{x0 + label_width + w + 4:.1f}" y="{y + 13}">{value:,.0f}</text>')
    return out, y0 + 12 + len(rows) * row + 30


def main() -> None:
    with open(BDN, encoding="utf-8") as f:
        bdn = [(r["Method"].strip("'"), number(r["Mean"]), number(r["Allocated"])) for r in csv.DictReader(f)]
    with open(LOAD, encoding="utf-8") as f:
        load = [line.strip().strip("|").split("|") for line in f if line.startswith("| memory") or line.startswith("| redis")]
    load = [[c.strip() for c in r] for r in load]

    svg = []
    y = 30
    part, y = bars("In process (TestServer): mean time per request", "µs", [(m, t) for m, t, _ in bdn], 10, y, 620, "#3b6ea8")
    svg += part
    part, y = bars("In process: bytes allocated per request", "KB", [(m, a) for m, _, a in bdn], 10, y, 620, "#7a9cc6")
    svg += part
    right_y = 30
    for store in ("memory", "redis"):
        rows = [(f"{r[1]}, {r[2]} conn.", float(r[3])) for r in load if r[0] == store]
        part, right_y = bars(f"wrk over loopback, {'in-process store' if store == 'memory' else 'Redis'}: requests/s", "", rows, 650, right_y, 640, "#d9822b")
        svg += part
    height = max(y, right_y) + 10
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="1300" height="{height}" font-family="sans-serif" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>')
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(head + "".join(svg) + "</svg>\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
