"""One self-contained HTML page: inline CSS, plotly.js inlined once, each chart's figure as
JSON, tables as HTML. Nothing is fetched when it opens, so it works offline, and the same
run gives the same bytes (chart ids are fixed, no time stamp is written)."""

from __future__ import annotations

import json
from functools import cache
from html import escape

from twotier import __version__

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; color: #222; background: #f6f7f9; }
main { max-width: 1280px; margin: 0 auto; padding: 12px 24px 48px; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #666; margin: 0 0 12px; }
nav a { margin-right: 14px; color: #1f5fa8; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { background: white; border: 1px solid #e2e5ea; border-radius: 6px; padding: 8px 14px;
        min-width: 120px; }
.card b { display: block; font-size: 19px; } .card span { color: #666; font-size: 12px; }
.chart { background: white; border: 1px solid #e2e5ea; border-radius: 6px; margin: 10px 0; }
table { border-collapse: collapse; background: white; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid #e8eaee; padding: 3px 10px; text-align: left;
         white-space: nowrap; }
th { background: #eef1f5; position: sticky; top: 0; }
td { font-variant-numeric: tabular-nums; }
.num-from-1 td:nth-child(n+2) { text-align: right; }
.num-from-2 td:nth-child(n+3) { text-align: right; }
.num-from-3 td:nth-child(n+4) { text-align: right; }
.num-from-4 td:nth-child(n+5) { text-align: right; }
.num-from-5 td:nth-child(n+6) { text-align: right; }
.num-from-6 td:nth-child(n+7) { text-align: right; }
.scroll { max-height: 520px; overflow: auto; border: 1px solid #e2e5ea; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
pre { background: white; border: 1px solid #e2e5ea; padding: 10px; max-height: 420px;
      overflow: auto; font-size: 12px; }
.warn { color: #8a5300; }
input[type=search] { padding: 4px 8px; width: 320px; margin: 4px 0; }
"""

# Plots every figure; the trade filter hides rows without the typed text.
SCRIPT = """
for (const [id, figure] of Object.entries(FIGURES)) {
  Plotly.newPlot(id, figure.data, figure.layout, CONFIG);
}
const filterBox = document.getElementById("trade-filter");
if (filterBox) {
  filterBox.addEventListener("input", () => {
    const needle = filterBox.value.toLowerCase();
    for (const row of document.querySelectorAll("#table-trades tbody tr")) {
      row.style.display = row.textContent.toLowerCase().includes(needle) ? "" : "none";
    }
  });
}
"""


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def script_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("</", "<\\/")


def chart_div(chart_id: str) -> str:
    return f'<div id="{escape(chart_id)}" class="chart"></div>'


def section(title: str, anchor: str, *parts: str) -> str:
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def cards(items: list[tuple[str, str]]) -> str:
    inner = "".join(
        f"<div class=card><b>{escape(v)}</b><span>{escape(k)}</span></div>" for k, v in items
    )
    return f'<div class="cards">{inner}</div>'


def document(
    title: str,
    subtitle: str,
    body: list[str],
    figures: dict[str, dict],
    nav: list[tuple[str, str]] = (),
) -> str:
    """The whole page: ``body`` is HTML in order; ``figures`` the charts by div id; ``nav``
    (anchor, title) links at the top."""
    links = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p><nav>{links}</nav>'
        + "".join(body)
        + f'<p class="sub">twotier {escape(__version__)}; charts drawn by plotly.js, '
        "included in this file.</p></main>\n"
        f"<script>{plotly_js()}</script>\n"
        f"<script>const FIGURES = {script_json(figures)};\n"
        f"const CONFIG = {script_json(PLOTLY_CONFIG)};\n{SCRIPT}</script>\n"
        "</body></html>\n"
    )
