"use strict";
// The page: the charts of FIGURES and the signal views of SIGNAL_VIEWS drawn, the trades
// table made sortable, filterable and linked to the signal views.
//
// Charts in or near the window are drawn first; then <body data-opened> holds the
// milliseconds since navigation began. The others are drawn one by one in the
// background (a chart scrolled to is drawn at once), and then <body data-drawn> holds
// the milliseconds until every chart was drawn.

const DRAWERS = {};
for (const [id, figure] of Object.entries(FIGURES)) {
  DRAWERS[id] = () => Plotly.newPlot(id, figure.data, figure.layout, CONFIG);
}
Object.assign(DRAWERS, signalViewDrawers(SIGNAL_VIEWS));
const DRAWN = {};

function drawChart(id) {
  if (!(id in DRAWN)) DRAWN[id] = DRAWERS[id]();
  return DRAWN[id];
}

function nearWindow(element) {
  const box = element.getBoundingClientRect();
  return box.top < window.innerHeight + 200 && box.bottom > -200;
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
const stamp = (name) => { document.body.dataset[name] = String(Math.round(performance.now())); };

function drawCharts() {
  const divs = Array.from(document.querySelectorAll("div.chart")).filter((d) => d.id in DRAWERS);
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) drawChart(entry.target.id);
  }, {rootMargin: "300px"});
  divs.forEach((div) => observer.observe(div));
  const first = divs.filter(nearWindow).map((div) => drawChart(div.id));
  return Promise.all(first).then(() => {
    stamp("opened");
    return divs.reduce((chain, div) => chain.then(nextTask).then(() => drawChart(div.id)), Promise.resolve());
  }).then(() => stamp("drawn"));
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
