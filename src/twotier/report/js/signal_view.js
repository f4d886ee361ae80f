"use strict";
// The signal view of one instrument (twotier.report.signal_view makes its payload): the
// run's 15-minute bars as candles with EMA 12/26/50 and Bollinger bands, the regime as a
// thin band, RSI, MACD, and Tier-1's signal, confidence and strength with every trigger
// marked by what Tier-2 did with it; entries, exits, stop and target levels and rolls.
// Whatever range is in view is drawn as at most MAX_CANDLES candles: bars are grouped in
// buckets of a power of two, so the whole run and a single day draw equally fast.

const MISSING_INT = -2147483648;
const MAX_CANDLES = 360;
const MINUTES_PER_BAR = 15;
const MAX_LEVEL_BUCKET = 4;  // stop and target levels are drawn up to 4 bars a candle
const REGIME_NAMES = ["", "uptrend", "downtrend", "ranging", "chaos"];
const REGIME_SCALE = [
  [0.0, "#66bb6a"], [0.25, "#66bb6a"], [0.25, "#ef5350"], [0.5, "#ef5350"],
  [0.5, "#eceff1"], [0.75, "#eceff1"], [0.75, "#ffa726"], [1.0, "#ffa726"],
];
const STATUS_STYLES = [
  ["trigger traded", "#2e7d32", "circle", 7],
  ["trigger blocked", "#c62828", "x", 8],
  ["trigger skipped", "#78909c", "circle-open", 7],
];
const CANDLE_HOVER =
  "%{text}<br>open %{open:,.2f}  high %{high:,.2f}  low %{low:,.2f}  close %{close:,.2f}" +
  "<br>EMA 12 / 26 / 50: %{customdata[0]:,.2f} / %{customdata[1]:,.2f} / %{customdata[2]:,.2f}" +
  "<br>Bollinger %{customdata[3]:,.2f} to %{customdata[4]:,.2f}<br>regime %{customdata[5]}<extra></extra>";
const ENTRY_HOVER =
  "trade %{customdata[0]}: %{customdata[1]}, %{customdata[2]} lots at %{y:,.2f}<br>%{text}" +
  "<br>leverage %{customdata[3]:.2f}x (effective %{customdata[4]:.2f}x)<extra></extra>";
const EXIT_HOVER =
  "trade %{customdata[0]} exit: %{customdata[1]}, %{customdata[2]} lots at %{y:,.2f}<br>%{text}" +
  "<br>net P&L %{customdata[3]:,.2f} CNY (%{customdata[4]:+.2%})<extra></extra>";
const TRIGGER_HOVER =
  "%{text}<br>confidence %{customdata[0]:.2f}, strength %{customdata[1]:.2f}<extra></extra>";
const DOMAINS = {
  price: [0.47, 1.0], regime: [0.44, 0.458], rsi: [0.31, 0.425], macd: [0.165, 0.295],
  tier1: [0.0, 0.15],
};

// base64 to bytes with a lookup table: several times faster than atob and a copy.
const BASE64 = new Uint8Array(128);
[..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].forEach((c, k) => {
  BASE64[c.charCodeAt(0)] = k;
});
function base64Bytes(text) {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  for (let i = 0, j = 0; i < text.length; i += 4) {
    const n = (BASE64[text.charCodeAt(i)] << 18) | (BASE64[text.charCodeAt(i + 1)] << 12) |
      (BASE64[text.charCodeAt(i + 2)] << 6) | BASE64[text.charCodeAt(i + 3)];
    bytes[j++] = n >> 16;
    if (j < bytes.length) bytes[j++] = (n >> 8) & 255;
    if (j < bytes.length) bytes[j++] = n & 255;
  }
  return bytes;
}

async function inflate(base64) {
  const bytes = base64Bytes(base64);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).arrayBuffer();
}

// The packed columns back (twotier.report.packing): int32 differences at fixed decimals,
// then int8 codes.
async function decodeColumns(spec, base64) {
  const buffer = await inflate(base64);
  const n = spec.bars;
  const columns = {};
  let offset = 0;
  for (const [name, decimals] of spec.numbers) {
    const deltas = new Int32Array(buffer, offset, n);
    const scale = 10 ** decimals;
    const values = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum = (sum + deltas[i]) | 0;
      values[i] = sum === MISSING_INT ? NaN : sum / scale;
    }
    columns[name] = values;
    offset += 4 * n;
  }
  for (const name of spec.codes) {
    columns[name] = new Int8Array(buffer, offset, n);
    offset += n;
  }
  return columns;
}

const pad = (v) => String(v).padStart(2, "0");
// Times are exchange wall-clock minutes, read as UTC so that every browser shows them alike.
function dayText(minutes) {
  const d = new Date(minutes * 60000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
function timeText(minutes) {
  const d = new Date(minutes * 60000);
  return `${dayText(minutes)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
function shortTimeText(minutes) {
  const d = new Date(minutes * 60000);
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
const finite = (v) => (Number.isFinite(v) ? v : null);

class SignalView {
  constructor(div, spec) {
    this.div = div;
    this.spec = spec;
    this.n = spec.bars;
    this.focus = null;
    this.drawing = false;
    this.ready = null;
  }

  // Decode the columns and draw the whole run (once; later calls wait for the first).
  start() {
    if (this.ready === null) {
      const data = document.getElementById(`${this.div.id}-columns`).textContent;
      this.ready = decodeColumns(this.spec, data).then((columns) => {
        this.columns = columns;
        return this.render(-0.5, this.n - 0.5);
      }).then(() => {
        this.div.on("plotly_relayout", (event) => this.onRelayout(event));
      });
    }
    return this.ready;
  }

  onRelayout(event) {
    if (this.drawing) return;
    let lo, hi;
    if ("xaxis.range[0]" in event) [lo, hi] = [event["xaxis.range[0]"], event["xaxis.range[1]"]];
    else if (Array.isArray(event["xaxis.range"])) [lo, hi] = event["xaxis.range"];
    else if (event["xaxis.autorange"]) [lo, hi] = [-0.5, this.n - 0.5];
    else return;
    this.render(lo, hi);
  }

  // Zoom to bars [from, to] (a trade: entry fill to exit fill) with some room around them.
  async zoomTo(from, to) {
    await this.start();
    this.focus = [from, to];
    const room = Math.max(16, 0.6 * (to - from));
    return this.render(from - room, to + room);
  }

  bucketsFor(lo, hi) {
    let k = 1;
    while ((hi - lo) / k > MAX_CANDLES) k *= 2;
    const first = Math.max(0, (Math.floor(lo / k) - 1) * k);
    const end = Math.min(this.n, (Math.ceil(hi / k) + 1) * k);
    const starts = [];
    for (let b = first; b < end; b += k) starts.push(b);
    return {k, starts, first, end};
  }

  // One value per bucket: candles from the bucket's bars, lines and codes at its last bar,
  // the regime of most of its bars.
  aggregate(starts, k) {
    const c = this.columns;
    const open = c.open || c.close;
    const high = c.high, low = c.low;
    const m = starts.length;
    const out = {x: [], open: [], high: [], low: [], close: [], last: [], regime: [], text: [], custom: []};
    const line = (name, i) => (c[name] ? finite(c[name][i]) : null);
    for (let j = 0; j < m; j++) {
      const a = starts[j];
      const b = Math.min(a + k, this.n) - 1;
      let hi = -Infinity, lo = Infinity;
      const counts = [0, 0, 0, 0, 0];
      for (let i = a; i <= b; i++) {
        hi = Math.max(hi, high ? high[i] : Math.max(open[i], c.close[i]));
        lo = Math.min(lo, low ? low[i] : Math.min(open[i], c.close[i]));
        counts[c.regime[i]] += 1;
      }
      let regime = 1;
      for (let r = 2; r <= 4; r++) if (counts[r] > counts[regime]) regime = r;
      out.x.push((a + b) / 2);
      out.open.push(open[a]);
      out.high.push(hi);
      out.low.push(lo);
      out.close.push(c.close[b]);
      out.last.push(b);
      out.regime.push(regime);
      out.text.push(a === b ? timeText(c.time[a]) : `${timeText(c.time[a])} to ${timeText(c.time[b])} (${b - a + 1} bars)`);
      out.custom.push([line("ema_12", b), line("ema_26", b), line("ema_50", b), line("bb_lower", b),
        line("bb_upper", b), REGIME_NAMES[c.regime[b]]]);
    }
    return out;
  }

  // The price pane's range: the candles and the Bollinger bands in view, with some room
  // (stop and target levels farther away are cut off rather than squeezing the candles).
  priceRange(g, rows) {
    let lo = Infinity, hi = -Infinity;
    const widen = (values) => {
      for (const v of values) {
        if (v !== null && Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      }
    };
    widen(g.low);
    widen(g.high);
    for (const name of ["bb_lower", "bb_upper"]) if (this.columns[name]) widen(this.column(name, rows));
    const room = Math.max(0.04 * (hi - lo), 1e-9);
    return [lo - room, hi + room];
  }

  column(name, rows) {
    const values = this.columns[name];
    return values ? rows.map((i) => finite(values[i])) : null;
  }

  ticks(lo, hi) {
    const a = Math.max(0, Math.ceil(lo));
    const b = Math.min(this.n - 1, Math.floor(hi));
    if (b <= a) return {tickvals: [], ticktext: []};
    const time = this.columns.time;
    const wide = time[b] - time[a] > 4 * 1440;
    const count = 8;
    const vals = [], texts = [];
    for (let j = 0; j <= count; j++) {
      const i = Math.round(a + ((b - a) * j) / count);
      if (vals.length && i === vals[vals.length - 1]) continue;
      vals.push(i);
      texts.push(wide ? dayText(time[i]) : shortTimeText(time[i]));
    }
    return {tickvals: vals, ticktext: texts};
  }

  events(name, first, end) {
    const table = this.spec[name];
    const keep = [];
    for (let j = 0; j < table.bar.length; j++) {
      if (table.bar[j] >= first && table.bar[j] < end) keep.push(j);
    }
    return keep;
  }

  tradeTraces(first, end, k) {
    const s = this.spec, c = this.columns;
    const shift = 0.25 * k;  // entries left of their bar, exits right: both stay visible
    const entries = this.events("entries", first, end);
    const exits = this.events("exits", first, end);
    const traces = [];
    for (const [side, symbol, name] of [["LONG", "triangle-up", "long entry"], ["SHORT", "triangle-down", "short entry"]]) {
      const e = s.entries;
      const mine = entries.filter((j) => e.side[j] === side);
      traces.push({
        type: "scatter", mode: "markers", name, x: mine.map((j) => e.bar[j] - shift),
        y: mine.map((j) => e.price[j]), text: mine.map((j) => timeText(c.time[e.bar[j]])),
        customdata: mine.map((j) => [e.trade[j], `${e.side[j]} ${e.tier[j]}`, e.contracts[j], e.lev[j], e.eff[j]]),
        hovertemplate: ENTRY_HOVER,
        marker: {symbol, size: 11, color: "#1565c0", line: {width: 1, color: "white"}},
      });
    }
    for (const [won, color, name] of [[true, "#2e7d32", "exit, profit"], [false, "#c62828", "exit, loss"]]) {
      const e = s.exits;
      const mine = exits.filter((j) => (e.pnl[j] > 0) === won);
      traces.push({
        type: "scatter", mode: "markers", name, x: mine.map((j) => e.bar[j] + shift),
        y: mine.map((j) => e.price[j]), text: mine.map((j) => timeText(c.time[e.bar[j]])),
        customdata: mine.map((j) => [e.trade[j], e.reason[j], e.contracts[j], e.pnl[j], e.ret[j]]),
        hovertemplate: EXIT_HOVER,
        marker: {symbol: "circle-open", size: 11, color, line: {width: 2.5, color}},
      });
    }
    if (k > MAX_LEVEL_BUCKET) return traces;
    const levels = [];
    for (let j = 0; j < s.levels.from.length; j++) {
      if (s.levels.to[j] >= first && s.levels.from[j] < end) levels.push(j);
    }
    for (const [key, color, name] of [["stop", "#c62828", "stop level"], ["target", "#2e7d32", "target level"]]) {
      const x = [], y = [];
      for (const j of levels) {
        x.push(s.levels.from[j] - 0.5, s.levels.to[j] + 0.5, null);
        y.push(s.levels[key][j], s.levels[key][j], null);
      }
      traces.push({
        type: "scatter", mode: "lines", name, x, y, hoverinfo: "skip", connectgaps: false,
        line: {color, width: 1.2, dash: "dot"},
      });
    }
    return traces;
  }

  triggerTraces(first, end) {
    const s = this.spec, c = this.columns;
    const mine = this.events("triggers", first, end);
    return STATUS_STYLES.map(([name, color, symbol, size], status) => {
      const rows = mine.filter((j) => s.triggers.status[j] === status);
      return {
        type: "scatter", mode: "markers", name, yaxis: "y5",
        x: rows.map((j) => s.triggers.bar[j]),
        y: rows.map((j) => 1.18 * s.triggers.dir[j]),
        text: rows.map((j) => {
          const t = s.triggers;
          const reason = t.reason[j] >= 0 ? `: ${s.reasons[t.reason[j]]}` : "";
          return `${t.dir[j] > 0 ? "long" : "short"} trigger ${timeText(c.time[t.bar[j]])}<br>` +
            `${name.replace("trigger ", "")}${reason}`;
        }),
        customdata: rows.map((j) => [c.confidence[s.triggers.bar[j]], c.signal_strength[s.triggers.bar[j]]]),
        hovertemplate: TRIGGER_HOVER,
        marker: {symbol, size, color, line: {width: symbol === "circle-open" ? 1.5 : 0.5, color}},
      };
    });
  }

  rollShapes(first, end) {
    const s = this.spec;
    const shapes = [], notes = [];
    for (let j = 0; j < s.rolls.bar.length; j++) {
      const bar = s.rolls.bar[j];
      if (bar < first || bar >= end) continue;
      shapes.push({
        type: "line", xref: "x", yref: "paper", x0: bar - 0.5, x1: bar - 0.5, y0: 0, y1: 1,
        line: {color: "#6d4c41", width: 1, dash: "dash"},
      });
      notes.push({
        x: bar - 0.5, y: DOMAINS.price[1], xref: "x", yref: "paper", yanchor: "top", xanchor: "left",
        text: `roll ${s.rolls.old[j]} → ${s.rolls.new[j]}`, showarrow: false,
        font: {size: 10, color: "#6d4c41"}, bgcolor: "rgba(255,255,255,0.8)",
      });
    }
    return [shapes, notes];
  }

  render(lo, hi) {
    lo = Math.max(-0.5, lo);
    hi = Math.min(this.n - 0.5, hi);
    if (!(hi > lo)) [lo, hi] = [-0.5, this.n - 0.5];
    const {k, starts, first, end} = this.bucketsFor(lo, hi);
    const c = this.columns;
    const g = this.aggregate(starts, k);
    const rows = g.last;
    const line = (name, label, color, extra = {}) => ({
      type: "scatter", mode: "lines", name: label, x: g.x, y: this.column(name, rows),
      hoverinfo: "skip", line: {color, width: 1.2}, ...extra,
    });
    const traces = [];
    if (c.bb_upper) {
      traces.push(line("bb_upper", "Bollinger (20, 2)", "rgba(96,125,139,0.55)", {legendgroup: "bb", line: {width: 1, color: "rgba(96,125,139,0.55)"}}));
      traces.push(line("bb_lower", "Bollinger lower", "rgba(96,125,139,0.55)", {
        legendgroup: "bb", showlegend: false, fill: "tonexty", fillcolor: "rgba(96,125,139,0.08)",
        line: {width: 1, color: "rgba(96,125,139,0.55)"},
      }));
    }
    if (c.ema_12) {
      traces.push(line("ema_12", "EMA 12", "#1e88e5"));
      traces.push(line("ema_26", "EMA 26", "#fb8c00"));
      traces.push(line("ema_50", "EMA 50", "#8e24aa"));
    }
    const minutes = k * MINUTES_PER_BAR;
    const label = k === 1 ? "15-minute bars" : minutes < 1440 ? `${minutes / 60} h candles` : `${k} bars a candle`;
    traces.push({
      type: "candlestick", name: label, x: g.x, open: g.open, high: g.high, low: g.low, close: g.close,
      text: g.text, customdata: g.custom, hovertemplate: CANDLE_HOVER, whiskerwidth: 0,
      increasing: {line: {color: "#26a69a", width: 1}, fillcolor: "#26a69a"},
      decreasing: {line: {color: "#ef5350", width: 1}, fillcolor: "#ef5350"},
    });
    traces.push(...this.tradeTraces(first, end, k));
    traces.push({
      type: "heatmap", name: "regime", x: g.x, y: [0], z: [g.regime], yaxis: "y2",
      zmin: 1, zmax: 4, colorscale: REGIME_SCALE, showscale: false, showlegend: false,
      text: [g.regime.map((r) => REGIME_NAMES[r])], hovertemplate: "regime %{text}<extra></extra>",
    });
    if (c.rsi) {
      traces.push(line("rsi", "RSI 14", "#6a1b9a", {
        yaxis: "y3", showlegend: false, hovertemplate: "RSI %{y:.1f}<extra></extra>", hoverinfo: undefined,
      }));
    }
    if (c.macd_hist) {
      const hist = this.column("macd_hist", rows);
      traces.push({
        type: "bar", name: "MACD histogram", x: g.x, y: hist, yaxis: "y4", showlegend: false,
        marker: {color: hist.map((v) => (v >= 0 ? "rgba(38,166,154,0.6)" : "rgba(239,83,80,0.6)"))},
        hovertemplate: "MACD histogram %{y:.3f}<extra></extra>",
      });
    }
    if (c.macd) {
      traces.push(line("macd", "MACD (12, 26, 9)", "#1e88e5", {yaxis: "y4", showlegend: false, hovertemplate: "MACD %{y:.3f}<extra></extra>", hoverinfo: undefined}));
      traces.push(line("macd_signal", "MACD signal", "#fb8c00", {yaxis: "y4", showlegend: false, hovertemplate: "MACD signal %{y:.3f}<extra></extra>", hoverinfo: undefined}));
    }
    traces.push({
      type: "scatter", mode: "lines", name: "signal", x: g.x, y: rows.map((i) => c.signal[i]), yaxis: "y5",
      line: {shape: "hvh", color: "#78909c", width: 1}, fill: "tozeroy", fillcolor: "rgba(120,144,156,0.18)",
      showlegend: false, hovertemplate: "signal %{y}<extra></extra>",
    });
    traces.push(line("confidence", "confidence", "#1565c0", {yaxis: "y5", showlegend: false, hovertemplate: "confidence %{y:.2f}<extra></extra>", hoverinfo: undefined}));
    traces.push(line("signal_strength", "strength", "#ef6c00", {yaxis: "y5", showlegend: false, hovertemplate: "strength %{y:.2f}<extra></extra>", hoverinfo: undefined}));
    traces.push(...this.triggerTraces(first, end));
    const [shapes, annotations] = this.rollShapes(first, end);
    shapes.push(...[30, 70].map((level) => ({
      type: "line", xref: "paper", yref: "y3", x0: 0, x1: 1, y0: level, y1: level,
      line: {color: "#bbb", width: 1, dash: "dot"},
    })));
    if (this.focus) {
      shapes.push({
        type: "rect", xref: "x", yref: "paper", x0: this.focus[0] - 0.5, x1: this.focus[1] + 0.5,
        y0: DOMAINS.price[0], y1: DOMAINS.price[1], fillcolor: "rgba(255,214,0,0.14)", line: {width: 0},
        layer: "below",
      });
    }
    for (const [y, text] of [[DOMAINS.rsi[1], "RSI 14"], [DOMAINS.macd[1], "MACD (12, 26, 9)"],
      [DOMAINS.tier1[1], "Tier-1: signal, confidence (blue), strength (orange), triggers"]]) {
      annotations.push({x: 0, y, xref: "paper", yref: "paper", xanchor: "left", yanchor: "bottom",
        text, showarrow: false, font: {size: 10, color: "#666"}});
    }
    const axis = (domain, extra = {}) => ({domain, anchor: "x", fixedrange: true, gridcolor: "#eee", zeroline: false, ...extra});
    const layout = {
      title: {text: `${this.spec.instrument}: what Tier-1 saw, what Tier-2 did`, x: 0.01, font: {size: 15}},
      height: 920, margin: {l: 64, r: 24, t: 44, b: 96}, paper_bgcolor: "white", plot_bgcolor: "white",
      hovermode: "closest", dragmode: "zoom", uirevision: "keep", bargap: 0.2,
      legend: {orientation: "h", x: 0, xanchor: "left", y: -0.045, yanchor: "top", font: {size: 11}},
      xaxis: {
        range: [lo, hi], anchor: "y5", tickmode: "array", ...this.ticks(lo, hi), rangeslider: {visible: false},
        showspikes: true, spikemode: "across", spikesnap: "cursor", spikethickness: 1, spikecolor: "#999",
        spikedash: "dot", gridcolor: "#eee", zeroline: false, linecolor: "#999",
      },
      yaxis: axis(DOMAINS.price, {title: {text: "price"}, range: this.priceRange(g, rows)}),
      yaxis2: axis(DOMAINS.regime, {visible: false, range: [-0.5, 0.5]}),
      yaxis3: axis(DOMAINS.rsi, {range: [0, 100], tickvals: [30, 70]}),
      yaxis4: axis(DOMAINS.macd, {zeroline: true, zerolinecolor: "#ccc"}),
      yaxis5: axis(DOMAINS.tier1, {range: [-1.4, 1.4], tickvals: [-1, 0, 1]}),
      shapes, annotations,
    };
    this.drawing = true;
    this.div.dataset.bucket = String(k);
    this.div.dataset.from = String(lo);
    this.div.dataset.to = String(hi);
    return Plotly.react(this.div, traces, layout, CONFIG).finally(() => {
      this.drawing = false;
    });
  }
}

const SIGNAL_VIEW_OBJECTS = {};

// A drawing function per signal view, by div id (the page draws them when it wants).
function signalViewDrawers(views) {
  const drawers = {};
  for (const [id, spec] of Object.entries(views)) {
    const view = new SignalView(document.getElementById(id), spec);
    SIGNAL_VIEW_OBJECTS[id] = view;
    drawers[id] = () => view.start();
  }
  return drawers;
}
