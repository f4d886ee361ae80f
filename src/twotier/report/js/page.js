"use strict";
// The page: the charts of FIGURES and the signal views of SIGNAL_VIEWS drawn, the trades
// table made sortable, filterable and linked to the signal views.
//
// The first window is shown first: its charts drawn (after plotly.js, kept as text in
// the page, has run), or if it holds none, as soon as it is painted; then
// <body data-opened> holds the milliseconds since navigation began. The other charts are
// drawn one by one in the background (a chart scrolled to is drawn at once); then
// <body data-drawn> holds the milliseconds until every chart was drawn (and
// <body data-charted> until the first one was).

const DRAWERS = {};
for (const [id, figure] of Object.entries(FIGURES)) {
  DRAWERS[id] = () => Plotly.newPlot(id, figure.data, figure.layout, CONFIG);
}
Object.assign(DRAWERS, signalViewDrawers(SIGNAL_VIEWS));
const DRAWN = {};

function loadPlotly() {
  if (typeof Plotly !== "undefined") return;
  const script = document.createElement("script");
  script.text = document.getElementById("plotly-js").textContent;
  document.head.append(script);
}

function drawChart(id) {
  if (!(id in DRAWN)) {
    loadPlotly();
    DRAWN[id] = DRAWERS[id]().then(() => {
      if (!document.body.dataset.charted) stamp("charted");
    });
  }
  return DRAWN[id];
}

function inWindow(element) {
  const box = element.getBoundingClientRect();
  return box.top < window.innerHeight && box.bottom > 0;
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
const stamp = (name) => { document.body.dataset[name] = String(Math.round(performance.now())); };

async function drawCharts() {
  const divs = Array.from(document.querySelectorAll("div.chart")).filter((d) => d.id in DRAWERS);
  const first = divs.filter(inWindow);
  if (first.length) await Promise.all(first.map((div) => drawChart(div.id)));
  else await painted();
  stamp("opened");
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) drawChart(entry.target.id);
  }, {rootMargin: "300px"});
  divs.forEach((div) => observer.observe(div));
  for (const div of divs) {
    await nextTask();
    await drawChart(div.id);
  }
  stamp("drawn");
}

// The value a cell sorts by: numbers (money with separators, percentages, "3.25x") as
// numbers, a missing value last, anything else as text.
function sortKey(cell, numeric) {
  const text = cell.textContent.trim();
  if (!numeric) return text;
  const value = parseFloat(text.replace(/[,%x+]/g, ""));
  return Number.isNaN(value) ? -Infinity : value;
}

function sortableTable(table) {
  const body = table.tBodies[0];
  table.querySelectorAll("thead th").forEach((th, column) => {
    th.addEventListener("click", () => {
      const numeric = th.dataset.type === "num";
      const down = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("thead th").forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      const rows = Array.from(body.rows).map((row, k) => [sortKey(row.cells[column], numeric), k, row]);
      rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]) * (down ? -1 : 1));
      body.append(...rows.map((r) => r[2]));
    });
  });
}

function filterableTrades(table) {
  const controls = document.querySelectorAll("[data-filter]");
  const text = document.getElementById("trade-filter");
  const count = document.getElementById("trade-count");
  const apply = () => {
    const needle = text ? text.value.toLowerCase() : "";
    let shown = 0;
    for (const row of table.tBodies[0].rows) {
      let keep = !needle || row.textContent.toLowerCase().includes(needle);
      for (const control of controls) {
        if (control.value && row.dataset[control.dataset.filter] !== control.value) keep = false;
      }
      row.style.display = keep ? "" : "none";
      shown += keep ? 1 : 0;
    }
    if (count) count.textContent = `${shown.toLocaleString("en-US")} of ${table.tBodies[0].rows.length.toLocaleString("en-US")} rows`;
  };
  controls.forEach((control) => control.addEventListener("change", apply));
  if (text) text.addEventListener("input", apply);
  apply();
}

// A click on a trade zooms its instrument's signal view to it.
function linkTradesToViews(table) {
  table.tBodies[0].addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    const view = row && SIGNAL_VIEW_OBJECTS[row.dataset.view];
    if (!view) return;
    table.querySelectorAll("tr.picked").forEach((r) => r.classList.remove("picked"));
    row.classList.add("picked");
    view.div.scrollIntoView({block: "start"});
    view.zoomTo(Number(row.dataset.from), Number(row.dataset.to));
  });
}

const REPORT_DRAWN = drawCharts();
const tradesTable = document.getElementById("table-trades");
if (tradesTable) {
  sortableTable(tradesTable);
  filterableTrades(tradesTable);
  linkTradesToViews(tradesTable);
}
