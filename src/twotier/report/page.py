"""One self-contained HTML page: inline CSS, plotly.js inlined once, each chart's figure as
JSON, the signal views' packed data, tables as HTML, the page's own script
(``report/js/``). Nothing is fetched when it opens, so it works offline, and the same run
gives the same bytes (chart ids are fixed, no time stamp is written).

plotly.js is kept as text and run by the page's script when the first chart is to be
drawn: a page whose first window holds only tables shows them without waiting for the
5 MB library to compile."""

from __future__ import annotations

import json
import pkgutil
from functools import cache
from html import escape
from pathlib import Path

import numpy as np

from twotier import __version__
from twotier.json_text import float_arrays_json
from twotier.report.series import Floats

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
SCRIPTS = ("signal_view.js", "page.js")

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; color: #222; background: #f6f7f9; }
main { max-width: 1340px; margin: 0 auto; padding: 12px 20px 48px; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 17px; margin: 30px 0 8px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
section { scroll-margin-top: 40px; }
.sub, .note { color: #666; margin: 0 0 12px; } .note { font-size: 12.5px; margin: 2px 0 10px; }
nav { position: sticky; top: 0; z-index: 5; background: #f6f7f9; padding: 6px 0;
      border-bottom: 1px solid #e2e5ea; }
nav a { margin-right: 14px; color: #1f5fa8; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { background: white; border: 1px solid #e2e5ea; border-radius: 6px; padding: 8px 14px;
        min-width: 120px; }
.card b { display: block; font-size: 19px; } .card span { color: #666; font-size: 12px; }
.chart { background: white; border: 1px solid #e2e5ea; border-radius: 6px; margin: 10px 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 12px; }
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
.scroll { max-height: 560px; overflow-y: auto; border: 1px solid #e2e5ea;
          content-visibility: auto; contain-intrinsic-size: auto 560px; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1f5fa8; }
pre { background: white; border: 1px solid #e2e5ea; padding: 10px; max-height: 420px;
      overflow: auto; font-size: 12px; }
.warn { color: #8a5300; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 6px 0; }
.filters select, .filters input { padding: 3px 6px; font: inherit; }
.filters input[type=search] { width: 260px; }
#table-trades { width: 100%; font-size: 12.5px; }
#table-trades th, #table-trades td { padding: 3px 6px; }
#table-trades th { cursor: pointer; user-select: none; }
#table-trades th[aria-sort=ascending]::after { content: " ▲"; font-size: 9px; }
#table-trades th[aria-sort=descending]::after { content: " ▼"; font-size: 9px; }
#table-trades td.reason { white-space: normal; word-break: break-word; }
#table-trades tbody tr[data-view] { cursor: pointer; }
#table-trades tbody tr:hover { background: #f1f6fd; }
#table-trades tbody tr.picked { background: #fff6c8; }
td.pos { color: #2e7d32; } td.neg { color: #c62828; } td.n { text-align: right; }
"""


PLOTLY_JS = "package_data/plotly.min.js"  # in plotly's package, as get_plotlyjs reads it


@cache
def plotly_js_utf8() -> bytes:
    """plotly.js as its file holds it (UTF-8): a report is written with these bytes as they
    are (``document_parts``); decoding the 4.8 MB and encoding them again cost as much as
    the metrics of a ten-year run (70M instructions)."""
    return pkgutil.get_data("plotly", PLOTLY_JS)


def plotly_js() -> str:
    return plotly_js_utf8().decode("utf-8")


@cache
def page_js() -> str:
    """The page's own script (signal views, tables), from ``report/js``."""
    folder = Path(__file__).with_name("js")
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in SCRIPTS)


LONG_TEXTS = 64  # lists of texts this long (a chart's days) are written once each
_HOLE = "\ue000twotier list\ue000"  # where such a list's text goes in the rest's JSON


def script_json(value) -> str:
    """JSON that is safe inside a <script> element: ``json.dumps``' compact text, with
    the chart series in a dict (of dicts and lists of dicts) written apart: those of
    floats (``series.Floats``) all together (``json_text.float_arrays_json``), long
    lists of texts once however many series share them (the charts' days)."""
    return "".join(script_json_parts(value))


def script_json_parts(value) -> list[str]:
    """``script_json`` in its parts, in order, to be written one after the other: the
    series' texts, pure ASCII, stay apart from the rest, whose few other characters (a
    roll's arrow) would make the whole of a joined text two bytes a character, and its
    UTF-8 slower to make."""
    floats: list[np.ndarray] = []
    holes: list[str | int] = []  # a list's text, or the number of its array in ``floats``
    shell = _series_out(value, floats, holes, {})
    text = _script_text(shell)
    return _filled(text, holes, floats, value) if holes else [text]


def _script_text(value) -> str:
    """``json.dumps``' compact text, "</" escaped so that it cannot end the <script>
    element (numbers have none: the series of floats are not looked through)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("</", "<\\/")


def _series_out(value, floats: list, holes: list, texts: dict):
    """``value`` with each series as ``_HOLE``, its array's place in ``floats`` or its
    text in ``holes``, in the order ``json.dumps`` writes them. ``texts``: each list of
    texts written so far and its JSON, by its length and first and last items."""
    if isinstance(value, dict):
        return {k: _series_out(v, floats, holes, texts) for k, v in value.items()}
    if not isinstance(value, list) or not value:
        return value
    if isinstance(value, Floats) and len(value) == len(value.array):
        holes.append(len(floats))
        floats.append(value.array)
        return _HOLE
    if isinstance(value[0], dict):  # a figure's traces, a layout's shapes
        return [_series_out(v, floats, holes, texts) for v in value]
    if len(value) >= LONG_TEXTS and type(value[0]) is str:
        key = (len(value), id(value[0]), id(value[-1]))
        known = texts.get(key)
        if known is None or known[0] != value:  # the same items: the same JSON
            if set(map(type, value)) != {str}:
                return value
            known = texts[key] = (value, _script_text(value))
        holes.append(known[1])
        return _HOLE
    return value


def _filled(text: str, holes: list[str | int], floats: list[np.ndarray], value) -> list[str]:
    """``text`` with each hole's series written in, in parts; ``value``'s plain JSON
    where the hole's mark was in the value itself."""
    parts = text.split(json.dumps(_HOLE, ensure_ascii=False))
    if len(parts) != len(holes) + 1:
        return [_script_text(value)]
    written = float_arrays_json(floats) if floats else []
    out = [parts[0]]
    for hole, after in zip(holes, parts[1:], strict=True):
        out.append(hole if isinstance(hole, str) else written[hole])
        out.append(after)
    return out


def chart_div(chart_id: str) -> str:
    return f'<div id="{escape(chart_id)}" class="chart"></div>'


def section(title: str, anchor: str, *parts: str) -> str:
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def folded(summary: str, *parts: str) -> str:
    """Content shown on a click: long tables beside the chart that says the same."""
    return f"<details><summary>{escape(summary)}</summary>{''.join(parts)}</details>"


def cards(items: list[tuple[str, str]]) -> str:
    inner = "".join(
        f"<div class=card><b>{escape(v)}</b><span>{escape(k)}</span></div>" for k, v in items
    )
    return f'<div class="cards">{inner}</div>'


def document(*args, **kwargs) -> str:
    """The whole page as one string: ``document_parts`` (same arguments) joined."""
    return joined(document_parts(*args, **kwargs))


def joined(parts: list[str | bytes]) -> str:
    """Parts of a page (``document_parts``) as one string."""
    return "".join(p.decode("utf-8") if isinstance(p, bytes) else p for p in parts)


def document_parts(
    title: str,
    subtitle: str,
    body: list[str],
    figures: dict[str, dict],
    nav: list[tuple[str, str]] = (),
    views: dict[str, dict] | None = None,
) -> list[str | bytes]:
    """The whole page in its parts, in order, to be written one after the other (a report
    of ten years is 19 MB of text, two bytes a character, better not joined at the run's
    peak; ``io.write_text_atomic`` takes them, plotly.js as its UTF-8 bytes): ``body`` is
    HTML in order; ``figures`` the charts by div id; ``views`` the
    signal views' payloads by div id; ``nav`` (anchor, title) links at the top."""
    links = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in nav)
    views = views or {}
    # Each view's packed columns in a data block of their own: the browser's script
    # parser never reads them, the view takes them when it is drawn.
    specs = {key: {k: v for k, v in view.items() if k != "data"} for key, view in views.items()}
    blocks = [
        f'<script type="application/octet-stream" id="{escape(key)}-columns">'
        f"{view['data']}</script>\n"
        for key, view in views.items()
    ]
    return [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p><nav>{links}</nav>',
        *body,
        f'<p class="sub">twotier {escape(__version__)}; charts drawn by plotly.js, '
        "included in this file.</p></main>\n",
        *blocks,
        '<script type="text/plain" id="plotly-js">',
        plotly_js_utf8(),
        "</script>\n<script>const FIGURES = ",
        *script_json_parts(figures),
        ";\nconst SIGNAL_VIEWS = ",
        *script_json_parts(specs),
        f";\nconst CONFIG = {script_json(PLOTLY_CONFIG)};\n</script>\n"
        f"<script>{page_js()}</script>\n"
        "</body></html>\n",
    ]
