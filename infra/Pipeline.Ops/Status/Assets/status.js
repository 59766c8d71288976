// The status page: polls /api/status and /api/noisiest while the tab is visible, and streams /api/tail
// (server-sent events) while the tab is visible and the tail is not paused. Everything from the pipeline is
// written with textContent: log lines and keys are input from anyone, never markup.
"use strict";

const POLL_MS = 2000, NOISIEST_MS = 5000, TAIL_KEEP = 500;
const SINKS = { noc: "PostgreSQL", siem: "SIEM archive", topk: "top-k windows", files: "jsonl files" };
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

const fmt = {
  count(v) {
    if (v === null || v === undefined) return "–";
    if (v >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
    return Math.round(v).toString();
  },
  rate(v) { return v === null || v === undefined ? "–" : v > 0 && v < 10 ? v.toFixed(1) : fmt.count(v); },
  seconds(v) {
    if (v === null || v === undefined) return "–";
    if (v < 1) return Math.round(v * 1000) + " ms";
    if (v < 60) return v.toFixed(1) + " s";
    if (v < 3600) return Math.floor(v / 60) + " m " + String(Math.floor(v % 60)).padStart(2, "0") + " s";
    return Math.floor(v / 3600) + " h " + String(Math.floor((v % 3600) / 60)).padStart(2, "0") + " m";
  },
  bytes(v) {
    if (v === null || v === undefined) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
  },
};

function polyline(values, width, height, max, cls) {
  const points = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * width},${height - (v === null ? 0 : (v / max) * (height - 2)) - 1}`);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", cls);
  return line;
}

function sparkline(svg, series) {
  svg.replaceChildren();
  const all = series.flatMap((s) => s.values).filter((v) => v !== null);
  const max = Math.max(1, ...all);
  const [width, height] = svg.getAttribute("viewBox").split(" ").slice(2).map(Number);
  for (const s of series) if (s.values.filter((v) => v !== null).length > 1) svg.append(polyline(s.values, width, height, max, s.cls));
}

// ---- status ----------------------------------------------------------------------------------------------

function renderHeader(s) {
  const kafka = $("#kafka");
  kafka.dataset.state = s.kafka.up ? "up" : "down";
  kafka.title = s.kafka.error || s.kafka.bootstrap;
  kafka.textContent = "Kafka " + (s.kafka.up ? "up" : "down");
  $("#processes").replaceChildren(...s.processes.map((p) =>
    el("span", { class: "chip", "data-process": p.name, "data-state": p.state, title: p.detail || p.url }, `${p.name} ${p.state}`)));
  $("#updated").textContent = "updated " + new Date(s.at).toLocaleTimeString();
}

function node(name, state, rate, sub, attrs) {
  return el("div", Object.assign({ class: "node", "data-state": state }, attrs || {}),
    el("span", { class: "name" }, name), el("span", { class: "rate" }, rate), el("div", { class: "sub" }, sub));
}

function renderFlow(s) {
  const edgeProcess = s.processes.find((p) => p.role === "edge");
  const edge = s.edge;
  $("#flow-listeners").replaceChildren(...(edge && edge.up && edge.listeners.length
    ? edge.listeners.map((l) => node(l.name, "up", fmt.rate(l.received_per_second) + "/s",
        `received ${fmt.count(l.received_total)} · dropped ${fmt.rate(l.dropped_per_second)}/s`, { "data-listener": l.name }))
    : [node("no listener data", edgeProcess ? edgeProcess.state : "down", "", edgeProcess ? edgeProcess.detail || "" : "no edge watched")]));
  $("#flow-edge").replaceChildren(edge && edge.up
    ? node("edge", edgeProcess.state, fmt.rate(edge.published_per_second) + "/s",
        `published · pending ${fmt.count(edge.pending_memory)} in memory, ${fmt.count(edge.pending_spool)} in spool`)
    : node("edge", "down", "", edgeProcess ? edgeProcess.detail || "not answering" : "not watched"));
  $("#flow-topics").replaceChildren(...(s.kafka.up
    ? s.topics.map((t) => node(t.name, "up", fmt.rate(t.per_second) + "/s", `${fmt.count(t.records)} records · ${t.partitions} partitions`, { "data-topic": t.name }))
    : [node("Kafka", "down", "", s.kafka.error || "not answering")]));
  $("#flow-groups").replaceChildren(...s.groups.map((g) => node(g.group, g.state, fmt.rate(g.written_per_second) + "/s",
    `${g.processes.map((p) => SINKS[p] || p).join(", ") || "no process"} · lag ${fmt.count(g.lag_messages)} (${fmt.seconds(g.lag_seconds)})`,
    { "data-group": g.group })));
}

function setFigure(id, value, text) {
  const node = $(id);
  node.dataset.value = value === null || value === undefined ? "" : String(value);
  node.textContent = text;
}

function renderLedger(s, history) {
  const e = s.edge;
  const up = e && e.up;
  setFigure("#edge-received-total", up ? e.received_total : null, up ? fmt.count(e.received_total) : "–");
  setFigure("#edge-published-total", up ? e.published_total : null, up ? fmt.count(e.published_total) : "–");
  setFigure("#edge-dropped-total", up ? e.dropped_total : null, up ? fmt.count(e.dropped_total) : "–");
  $("#edge-received-rate").textContent = (up ? fmt.rate(e.received_per_second) : "–") + "/s";
  $("#edge-published-rate").textContent = (up ? fmt.rate(e.published_per_second) : "–") + "/s";
  $("#edge-dropped-rate").textContent = (up ? fmt.rate(e.dropped_per_second) : "–") + "/s";
  sparkline($("#edge-chart"), [
    { values: history.received, cls: "received" }, { values: history.published, cls: "published" }, { values: history.dropped, cls: "dropped" }]);
  $("#drops tbody").replaceChildren(...(up ? e.drops : []).map((d) =>
    el("tr", { "data-reason": d.reason }, el("td", null, d.reason), el("td", { class: d.total > 0 ? "bad" : null }, fmt.count(d.total)), el("td", null, fmt.rate(d.per_second)))));
  const fill = up && e.spool_fill !== null ? e.spool_fill : 0;
  const bar = $("#spool-fill");
  bar.style.width = (fill * 100).toFixed(1) + "%";
  bar.classList.toggle("high", fill >= 0.5);
  $("#spool-text").textContent = up ? `${fmt.bytes(e.spool_bytes)} of ${fmt.bytes(e.spool_max_bytes)} (${(fill * 100).toFixed(1)} %)` : "–";
  $("#pending").textContent = up
    ? `pending: ${fmt.count(e.pending_memory)} in memory, ${fmt.count(e.pending_spool)} in the spool · parse failures (shipped raw): ${fmt.count(e.parse_failed_total)}`
    : "the edge is not answering";
}

function renderGroups(s, history) {
  const rows = s.groups.map((g) => {
    const spark = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    spark.setAttribute("viewBox", "0 0 60 16");
    spark.setAttribute("class", "chart");
    spark.style.height = "16px"; spark.style.width = "60px"; spark.style.margin = "0";
    sparkline(spark, [{ values: history.lag[g.group] || [], cls: "received" }]);
    return el("tr", { "data-group": g.group, "data-state": g.state, title: g.positions_from ? "positions from " + g.positions_from : null },
      el("td", null, g.group),
      el("td", null, el("span", { class: "state", "data-state": g.state }, g.state)),
      el("td", { class: "lag", "data-value": g.lag_messages ?? "" }, spark, " ", fmt.count(g.lag_messages)),
      el("td", { class: "lag-time", "data-value": g.lag_seconds ?? "" }, fmt.seconds(g.lag_seconds)),
      el("td", null, fmt.rate(g.closing_per_second)),
      el("td", { class: "written", "data-value": g.written_total ?? "" }, fmt.rate(g.written_per_second)),
      el("td", null, g.freshness_p50_seconds === null ? "–" : `${fmt.seconds(g.freshness_p50_seconds)} / ${fmt.seconds(g.freshness_p99_seconds)}`),
      el("td", { class: g.dead_lettered > 0 ? "bad" : null }, fmt.count(g.dead_lettered)));
  });
  $("#group-rows").replaceChildren(...rows);
  const problems = s.groups.filter((g) => g.problem).map((g) => `${g.group}: ${g.problem}`);
  $("#group-notes").textContent = problems.join(" · ");
}

async function pollStatus() {
  try {
    const response = await fetch("/api/status", { cache: "no-store" });
    const body = await response.json();
    const s = body.snapshot;
    renderHeader(s);
    renderFlow(s);
    renderLedger(s, body.history);
    renderGroups(s, body.history);
    if (document.body.dataset.loaded !== "true") performance.mark("first-numbers");
    document.body.dataset.loaded = "true";
  } catch (error) {
    $("#updated").textContent = "the status server does not answer (" + error.message + ")";
  }
}

// ---- noisiest --------------------------------------------------------------------------------------------

let noisiestWindow = "1m";

async function pollNoisiest() {
  try {
    const response = await fetch(`/api/noisiest?window=${noisiestWindow}&k=10`, { cache: "no-store" });
    const n = await response.json();
    $("#noisiest-note").textContent = n.up ? "" : n.error;
    for (const box of document.querySelectorAll("#noisiest .dimension")) {
      const name = box.id.slice("noisiest-".length);
      const d = (n.dimensions || []).find((x) => x.dimension === name);
      const top = d ? d.top : [];
      const max = Math.max(1, ...top.map((t) => t.count));
      box.querySelector("ol").replaceChildren(...(top.length ? top.map((t) =>
        el("li", { title: `${t.key}: ${t.count}` + (t.error ? ` (±${t.error})` : "") },
          el("span", { class: "fill", style: `width:${((t.count / max) * 100).toFixed(1)}%` }),
          el("span", { class: "key" }, t.key), el("span", { class: "count" }, fmt.count(t.count))))
        : [el("li", { class: "muted" }, "nothing in this window yet")]));
    }
  } catch (error) {
    $("#noisiest-note").textContent = "no answer: " + error.message;
  }
}

for (const button of document.querySelectorAll("#noisiest .toggle button")) {
  button.addEventListener("click", () => {
    noisiestWindow = button.dataset.window;
    for (const b of document.querySelectorAll("#noisiest .toggle button")) b.setAttribute("aria-pressed", String(b === button));
    pollNoisiest();
  });
}

// ---- live tail -------------------------------------------------------------------------------------------

let source = null, pausedByUser = false;

function tailState(state, note) {
  $("#tail").dataset.state = state;
  const chip = $("#tail-state");
  chip.dataset.state = state;
  chip.textContent = state;
  $("#tail-note").textContent = note || "";
}

function addTailLine(node) {
  const list = $("#tail-lines");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(node);
  while (list.children.length > TAIL_KEEP) list.firstElementChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function openTail() {
  closeTail();
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("#tail-filter"))) if (value) params.set(key, value);
  tailState("connecting");
  source = new EventSource("/api/tail?" + params.toString());
  source.addEventListener("ready", () => tailState("live", params.toString() ? "filter: " + params.toString().replaceAll("&", ", ") : "every line"));
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    addTailLine(el("li", { "data-host": line.host, "data-app": line.app, "data-severity": line.severity ?? "" }, line.line));
  });
  source.addEventListener("skipped", (event) => addTailLine(el("li", { class: "note" }, `… ${JSON.parse(event.data).skipped} lines skipped (more than the page can show)`)));
  source.onerror = () => {
    // A refusal (a bad filter: 400; Kafka not answering; too many tails: 503) closes the stream for good, and
    // EventSource does not show why: ask once more with fetch to read the reason. A dropped stream is retried by the browser.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      tailState("closed", "the server refused the tail");
      const asking = new AbortController();
      fetch("/api/tail?" + params.toString(), { signal: asking.signal })
        .then((r) => (r.ok ? (asking.abort(), null) : r.json()))
        .then((body) => { if (body && body.error) tailState("closed", body.error); })
        .catch(() => {});
    } else tailState("connecting", "reconnecting…");
  };
}

function closeTail() {
  if (source) { source.close(); source = null; }
}

$("#tail-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  $("#tail-lines").replaceChildren();
  pausedByUser = false;
  $("#tail-pause").setAttribute("aria-pressed", "false");
  $("#tail-pause").textContent = "pause";
  if (!document.hidden) openTail();
});

$("#tail-pause").addEventListener("click", () => {
  pausedByUser = !pausedByUser;
  $("#tail-pause").setAttribute("aria-pressed", String(pausedByUser));
  $("#tail-pause").textContent = pausedByUser ? "resume" : "pause";
  if (pausedByUser) { closeTail(); tailState("paused", "paused"); } else openTail();
});

// ---- visibility: nothing is read while the tab is hidden ---------------------------------------------------

let timers = [];

function start() {
  pollStatus();
  pollNoisiest();
  timers = [setInterval(pollStatus, POLL_MS), setInterval(pollNoisiest, NOISIEST_MS)];
  if (!pausedByUser) openTail();
}

function stop() {
  for (const timer of timers) clearInterval(timer);
  timers = [];
  closeTail();
  if (!pausedByUser) tailState("paused", "paused while the tab is hidden");
}

document.addEventListener("visibilitychange", () => (document.hidden ? stop() : start()));
if (!document.hidden) start();
