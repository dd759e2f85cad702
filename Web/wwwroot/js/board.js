// Training boards (issue 6): every [data-board] element on the page. data-mode says what it shows:
//   run      one run (data-runs="id"): a chart per draw_board graph, a chart per series in no graph;
//   compare  several runs (data-runs="a,b"): a chart per metric name, one line per run ("run \u00b7 metric");
//   job      a job's run (data-job-id), found through GET /api/v1/runs/by-job/{id}; a hint when it logged nothing.
// Series load from GET /api/v1/runs/{id}/points?maxPoints=\u2026 (a huge series comes as rollup buckets: the mean as the line,
// min/max as a band; zooming in re-queries the visible steps); data-raw="true" loads every raw point from the export
// instead (the first-paint bench's peer). New points come over the hub (SubscribeRun, "Points", "RunUpdated") and are
// appended with Plotly.extendTraces once per animation frame; the EMA smoothing (TensorBoard's, debiased) continues
// incrementally. NaN and \u00b1Infinity are gaps in the line with a marker at the step, never silently left out.
(function () {
  "use strict";
  if (window.performance && performance.mark) {
    performance.mark("board-script");
  }
  if (window.platformBoard) {
    return; // included twice (a page and a partial)
  }

  const MAX_POINTS = 2000;
  const TRACES = 5; // per series: band low, band high, raw, smoothed, non-finite markers
  const RAW = 2, SMOOTH = 3, MARKS = 4;
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const firstPaint = {};

  const number = function (v) {
    if (typeof v === "number") {
      return v;
    }
    if (v === "Infinity" || v === "+Infinity") {
      return Infinity;
    }
    if (v === "-Infinity") {
      return -Infinity;
    }
    if (v === null || v === undefined || v === "NaN") {
      return NaN;
    }
    return Number(v);
  };
  const nonFiniteLabel = function (v) {
    return isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
  };
  const rgba = function (hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  };
  const api = function (url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } })
      .then(function (response) {
        if (!response.ok) {
          const error = new Error(response.status === 404 ? "Not found." : "The board could not be loaded (" + response.status + ").");
          error.status = response.status;
          throw error;
        }
        return response.json();
      });
  };
  // plotly.js: the page's own script tag if it has one (the raw peer), else injected (the run pages preload it).
  const ensurePlotly = function () {
    const ready = document.readyState === "loading"
      ? new Promise(function (resolve) { document.addEventListener("DOMContentLoaded", resolve, { once: true }); })
      : Promise.resolve();
    return ready.then(function () {
      if (window.Plotly) {
        return window.Plotly;
      }
      return new Promise(function (resolve, reject) {
        let script = document.querySelector('script[src*="/lib/plotly"]');
        if (!script) {
          script = document.createElement("script");
          script.src = "/lib/plotly-basic/plotly-basic.min.js";
          document.head.appendChild(script);
        }
        script.addEventListener("load", function () { resolve(window.Plotly); });
        script.addEventListener("error", function () { reject(new Error("plotly.js could not be loaded.")); });
        if (window.Plotly) {
          resolve(window.Plotly);
        }
      });
    });
  };
  // Resolves once the browser has rendered the next frame (a task queued from an animation frame runs after it).
  const afterNextPaint = function () {
    return new Promise(function (resolve) {
      window.requestAnimationFrame(function () { setTimeout(resolve, 0); });
    });
  };
  // WebGL for raw series too long for SVG (the raw peer of the first-paint bench, with the full plotly bundle), where the
  // browser has it.
  // Asked only by the raw peer, and then once: a WebGL context takes a new browser profile about a second to create.
  let hasWebgl = null;
  const webgl = function () {
    if (hasWebgl === null) {
      try {
        hasWebgl = !!document.createElement("canvas").getContext("webgl");
      } catch (e) {
        hasWebgl = false;
      }
    }
    return hasWebgl;
  };
  // scattergl is in the full bundle only (registered trace types: Plotly.PlotSchema lists them).
  const isGl = function () {
    try {
      return !!window.Plotly.PlotSchema.get().traces.scattergl;
    } catch (e) {
      return false;
    }
  };
  const formatCount = function (n) {
    return Number(n).toLocaleString("en-US");
  };

  // The points one chart shows of one series: raw points (level 0) or rollup buckets (mean, min, max), with the plotted
  // y (null where the value is not finite), the EMA and the markers of the non-finite values.
  const newData = function (level) {
    return {
      level: level || 0, steps: [], times: [], values: [], y: [], min: [], max: [], smooth: [],
      ema: { last: 0, n: 0 }, nfSteps: [], nfTimes: [], nfY: [], nfText: [], lastFinite: null
    };
  };
  const emaNext = function (ema, weight, v) {
    if (!isFinite(v)) {
      return null;
    }
    ema.last = ema.last * weight + (1 - weight) * v;
    ema.n += 1;
    const debias = weight >= 1 ? 1 : 1 - Math.pow(weight, ema.n);
    return debias === 0 ? v : ema.last / debias;
  };
  // Appends one point to d; returns what was added to each of its traces (for extendTraces).
  const push = function (d, weight, step, time, value, min, max) {
    d.steps.push(step);
    d.times.push(time);
    d.values.push(value);
    const finite = isFinite(value);
    const y = finite ? value : null;
    d.y.push(y);
    const s = emaNext(d.ema, weight, value);
    d.smooth.push(s);
    const added = { step: step, time: time, y: y, smooth: s, min: null, max: null, mark: null };
    if (d.level > 0) {
      d.min.push(min === undefined ? y : (isFinite(min) ? min : null));
      d.max.push(max === undefined ? y : (isFinite(max) ? max : null));
      added.min = d.min[d.min.length - 1];
      added.max = d.max[d.max.length - 1];
    }
    if (finite) {
      d.lastFinite = value;
    } else {
      const at = d.lastFinite === null ? 0 : d.lastFinite;
      d.nfSteps.push(step);
      d.nfTimes.push(time);
      d.nfY.push(at);
      d.nfText.push(nonFiniteLabel(value));
      added.mark = { y: at, text: nonFiniteLabel(value) };
    }
    return added;
  };
  const resmooth = function (d, weight) {
    d.ema = { last: 0, n: 0 };
    d.smooth = d.values.map(function (v) { return emaNext(d.ema, weight, v); });
  };

  function Board(root) {
    this.root = root;
    this.mode = root.dataset.mode || "run";
    this.raw = root.dataset.raw === "true";
    this.runIds = (root.dataset.runs || "").split(",").filter(Boolean);
    this.runs = {};        // id → RunResponse
    this.series = {};      // runId + "\n" + name → series
    this.lastSteps = {};   // runId → { name: last step seen }
    this.charts = [];
    this.weight = 0.6;
    this.xMode = "step";
    this.log = false;
    this.pending = new Map(); // chart → [[seriesIndex, added], \u2026]
    this.frame = 0;
    this.subscribed = {};
    this.toolbar();
  }

  Board.prototype.toolbar = function () {
    const id = "board-" + Math.random().toString(36).slice(2, 8);
    this.root.innerHTML =
      '<div class="board-toolbar d-flex flex-wrap gap-3 align-items-center mb-2 small" hidden>' +
      '  <div class="btn-group btn-group-sm" role="group" aria-label="Horizontal axis">' +
      '    <input type="radio" class="btn-check" name="' + id + '-x" id="' + id + '-step" value="step" checked data-board-x>' +
      '    <label class="btn btn-outline-secondary" for="' + id + '-step">Step</label>' +
      '    <input type="radio" class="btn-check" name="' + id + '-x" id="' + id + '-time" value="time" data-board-x>' +
      '    <label class="btn btn-outline-secondary" for="' + id + '-time">Time</label>' +
      '  </div>' +
      '  <label class="d-flex align-items-center gap-2" for="' + id + '-smooth">Smoothing' +
      '    <input type="range" class="form-range" style="width: 9rem" min="0" max="0.99" step="0.01" value="0.6" id="' + id + '-smooth" data-board-smoothing>' +
      '    <output class="font-monospace" data-board-smoothing-value>0.60</output></label>' +
      '  <div class="form-check form-switch mb-0">' +
      '    <input class="form-check-input" type="checkbox" role="switch" id="' + id + '-log" data-board-log>' +
      '    <label class="form-check-label" for="' + id + '-log">Log scale</label></div>' +
      '</div>' +
      '<p class="small text-body-secondary board-status" data-board-status role="status">Loading\u2026</p>' +
      '<div class="row row-cols-1 row-cols-xl-2 g-3" data-board-charts></div>';
    const self = this;
    this.root.querySelectorAll("[data-board-x]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.checked) {
          self.xMode = input.value;
          self.charts.forEach(function (c) { c.uirevision += 1; });
          self.renderAll();
        }
      });
    });
    const slider = this.root.querySelector("[data-board-smoothing]");
    const output = this.root.querySelector("[data-board-smoothing-value]");
    slider.addEventListener("input", function () {
      self.weight = Number(slider.value);
      output.textContent = self.weight.toFixed(2);
      Object.keys(self.series).forEach(function (key) {
        const s = self.series[key];
        resmooth(s.overview, self.weight);
        if (s.shown !== s.overview) {
          resmooth(s.shown, self.weight);
        }
      });
      self.renderAll();
    });
    this.root.querySelector("[data-board-log]").addEventListener("change", function (event) {
      self.log = event.target.checked;
      self.renderAll();
    });
  };

  Board.prototype.status = function (text) {
    const status = this.root.querySelector("[data-board-status]");
    status.textContent = text;
    status.hidden = !text;
  };

  Board.prototype.start = function () {
    const self = this;
    let first;
    if (this.mode === "job") {
      first = api("/api/v1/runs/by-job/" + encodeURIComponent(this.root.dataset.jobId)).then(function (run) {
        self.runIds = [run.id];
        const link = self.root.parentElement && self.root.parentElement.querySelector("[data-board-link]");
        if (link) {
          link.href = "/Runs/" + run.id;
          link.hidden = false;
        }
        return [run];
      }, function (error) {
        if (error.status === 404) {
          self.status("This job logged no metrics. Call log_metric(\"loss\", value) in its code to see them drawn here.");
          self.root.dataset.boardEmpty = "true";
          return null;
        }
        throw error;
      });
    } else {
      // The points are asked for at once, beside the run's description (all series: the response names them).
      this.prefetched = {};
      this.runIds.forEach(function (id) { self.prefetched[id] = self.fetchPoints(id, null); });
      first = Promise.all(this.runIds.map(function (id) { return api("/api/v1/runs/" + encodeURIComponent(id)); }));
    }
    return first.then(function (runs) {
      if (!runs) {
        return null;
      }
      return self.load(runs).then(function () { self.live(); });
    }).catch(function (error) {
      self.status(error.message);
    });
  };

  // Charts from the runs' descriptions, then their points.
  Board.prototype.load = function (runs) {
    const self = this;
    runs.forEach(function (run) { self.runs[run.id] = run; self.lastSteps[run.id] = self.lastSteps[run.id] || {}; });
    this.layoutCharts();
    this.showRun(runs[0]);
    const total = runs.reduce(function (sum, r) { return sum + (r.series || []).length; }, 0);
    if (total === 0) {
      this.status("No points yet: they appear here as soon as the code logs them.");
    }
    // The points load while plotly.js parses (the marks time both for the first-paint bench).
    const mark = function (name) {
      return function () {
        if (window.performance && performance.mark) {
          performance.mark(name);
        }
      };
    };
    // On a first visit plotly.js (1 MB) takes longer to compile and run than the points take to load, and while it runs
    // nothing else does. So the page only preloads it (<link rel=preload>): the points come first and are drawn at once
    // as a still preview (the same line and min/max band, on a canvas), and plotly.js runs after that frame is on
    // screen, then takes the charts over. A page that already has plotly (or the raw peer) draws with it directly.
    const points = Promise.all(runs.map(function (run) { return self.loadPoints(run); })).then(mark("board-data"));
    const preview = !this.raw && !window.Plotly;
    const plotly = (preview
      ? points.then(function () {
        self.charts.forEach(function (chart) { self.preview(chart); });
        return afterNextPaint();
      })
      : Promise.resolve()).then(ensurePlotly).then(mark("board-plotly"));
    return Promise.all([plotly, points]).then(function () {
      self.root.querySelector(".board-toolbar").hidden = false;
      if (total > 0) {
        self.status("");
      }
      return self.renderAll();
    }).then(function () {
      self.root.dataset.boardReady = "true";
    });
  };

  // Raw: the export (every point); else the points API at the finest level that fits MAX_POINTS.
  Board.prototype.fetchPoints = function (runId, names) {
    if (this.raw) {
      return api("/api/v1/runs/" + runId + "/export?format=json").then(function (body) {
        return {
          series: Object.keys(body.series || {}).map(function (name) {
            const points = body.series[name];
            return {
              name: name, level: 0,
              steps: points.map(function (p) { return p[0]; }),
              times: points.map(function (p) { return p[1]; }),
              values: points.map(function (p) { return p[2]; })
            };
          })
        };
      });
    }
    const query = names && names.length <= 50 ? names.map(function (n) { return "series=" + encodeURIComponent(n); }).join("&") + "&" : "";
    return api("/api/v1/runs/" + runId + "/points?" + query + "maxPoints=" + MAX_POINTS);
  };

  Board.prototype.loadPoints = function (run) {
    const self = this;
    const names = (run.series || []).map(function (s) { return s.name; });
    let body = this.prefetched && this.prefetched[run.id];
    if (body) {
      delete this.prefetched[run.id];
    } else if (names.length === 0) {
      return Promise.resolve();
    } else {
      body = this.fetchPoints(run.id, names);
    }
    return body.then(function (result) {
      (result.series || []).forEach(function (part) {
        const s = self.seriesOf(run.id, part.name);
        s.overview = s.shown = self.fromPart(part);
        self.seen(run.id, part.name, s.overview);
        const info = (run.series || []).find(function (x) { return x.name === part.name; });
        if (info && typeof info.lastStep === "number") {
          self.bump(run.id, part.name, info.lastStep);
        }
      });
    });
  };

  Board.prototype.fromPart = function (part) {
    const d = newData(part.level || 0);
    const weight = this.weight;
    const steps = part.steps || [], times = part.times || [], values = part.values || [];
    for (let i = 0; i < steps.length; i++) {
      push(d, weight, steps[i], times[i], number(values[i]),
        part.min ? number(part.min[i]) : undefined, part.max ? number(part.max[i]) : undefined);
    }
    return d;
  };

  Board.prototype.seen = function (runId, name, d) {
    if (d.steps.length > 0) {
      this.bump(runId, name, d.steps[d.steps.length - 1]);
    }
  };
  Board.prototype.bump = function (runId, name, step) {
    const last = this.lastSteps[runId];
    if (last[name] === undefined || last[name] < step) {
      last[name] = step;
    }
  };

  Board.prototype.label = function (runId, name) {
    return this.mode === "compare" ? (this.runs[runId] ? this.runs[runId].name : runId) + " \u00b7 " + name : name;
  };

  // The series object of (run, name), made (and placed on a chart) on first sight.
  Board.prototype.seriesOf = function (runId, name) {
    const key = runId + "\n" + name;
    let s = this.series[key];
    if (s) {
      return s;
    }
    s = { key: key, runId: runId, name: name, overview: newData(0), shown: null };
    s.shown = s.overview;
    this.series[key] = s;
    const chart = this.chartFor(runId, name);
    s.color = this.mode === "compare" ? COLORS[this.runIds.indexOf(runId) % COLORS.length] : COLORS[chart.series.length % COLORS.length];
    chart.series.push(s);
    return s;
  };

  Board.prototype.chartFor = function (runId, name) {
    const found = this.charts.find(function (c) { return c.names.indexOf(name) >= 0; });
    return found || this.newChart(name, [name]);
  };

  Board.prototype.layoutCharts = function () {
    const self = this;
    if (this.mode !== "compare") {
      const run = this.runs[this.runIds[0]];
      (run.graphs || []).slice().sort(function (a, b) { return a.position - b.position; }).forEach(function (g) {
        self.newChart(g.title, g.series.slice());
      });
    }
    this.runIds.forEach(function (id) {
      (self.runs[id].series || []).forEach(function (s) { self.seriesOf(id, s.name); });
    });
    // A graph's series that have no points yet get their chart when the first arrives.
  };

  Board.prototype.newChart = function (title, names) {
    const column = document.createElement("div");
    column.className = "col";
    const div = document.createElement("div");
    div.className = "board-chart";
    div.style.minHeight = "320px";
    div.dataset.title = title;
    div.dataset.points = "0";
    column.appendChild(div);
    this.root.querySelector("[data-board-charts]").appendChild(column);
    const chart = { title: title, names: names, series: [], div: div, uirevision: 1, wired: false };
    this.charts.push(chart);
    return chart;
  };

  Board.prototype.traces = function (chart) {
    const self = this;
    const traces = [];
    const smoothing = this.weight > 0;
    chart.series.forEach(function (s) {
      const d = s.shown;
      const x = self.xMode === "time" ? d.times : d.steps;
      const label = self.label(s.runId, s.name);
      const band = d.level > 0;
      traces.push({
        x: band ? x.slice() : [], y: band ? d.min.slice() : [], type: "scatter", mode: "lines", line: { width: 0, color: s.color },
        hoverinfo: "skip", showlegend: false, legendgroup: s.key, name: label + " min"
      });
      traces.push({
        x: band ? x.slice() : [], y: band ? d.max.slice() : [], type: "scatter", mode: "lines", line: { width: 0, color: s.color },
        fill: "tonexty", fillcolor: rgba(s.color, 0.15), hoverinfo: "skip", showlegend: false, legendgroup: s.key, name: label + " max"
      });
      traces.push({
        x: x.slice(), y: d.y.slice(), type: self.raw && d.y.length > 50000 && window.Plotly.PlotSchema && webgl() && isGl() ? "scattergl" : "scatter", mode: "lines", name: label,
        line: { color: s.color, width: smoothing ? 1 : 1.5 }, opacity: smoothing ? 0.3 : 1, connectgaps: false,
        legendgroup: s.key, showlegend: !smoothing, hovertemplate: (band ? "mean " : "") + "%{y:.6g}<extra>" + label + (smoothing ? " (raw)" : "") + "</extra>"
      });
      traces.push({
        x: x.slice(), y: d.smooth.slice(), type: "scatter", mode: "lines", name: label, visible: smoothing,
        line: { color: s.color, width: 2 }, connectgaps: false, legendgroup: s.key, showlegend: smoothing,
        hovertemplate: "%{y:.6g}<extra>" + label + " (smoothed)</extra>"
      });
      traces.push({
        x: (self.xMode === "time" ? d.nfTimes : d.nfSteps).slice(), y: d.nfY.slice(), text: d.nfText.slice(), type: "scatter",
        mode: "markers", marker: { symbol: "x", size: 9, color: "#d62728" }, name: label + " NaN/\u221e", showlegend: false,
        legendgroup: s.key, hovertemplate: "%{text}<extra>" + label + "</extra>"
      });
    });
    return traces;
  };

  Board.prototype.layout = function (chart) {
    const marks = chart.series.reduce(function (n, s) { return n + s.shown.nfSteps.length; }, 0);
    return {
      title: { text: chart.title, font: { size: 14 } },
      margin: { t: 36, r: 10, l: 56, b: 40 },
      legend: { orientation: "h" },
      hovermode: "x unified",
      uirevision: chart.uirevision,
      xaxis: { title: { text: this.xMode === "time" ? "time" : "step" }, type: this.xMode === "time" ? "date" : "linear" },
      yaxis: { type: this.log ? "log" : "linear" },
      annotations: marks === 0 ? [] : [{
        xref: "paper", yref: "paper", x: 1, y: 1.02, xanchor: "right", yanchor: "bottom", showarrow: false,
        text: marks + " non-finite value" + (marks === 1 ? "" : "s") + " (NaN/\u00b1Infinity): gaps marked \u00d7", font: { size: 11, color: "#d62728" }
      }]
    };
  };

  Board.prototype.count = function (chart) {
    const points = (chart.div.data || []).reduce(function (n, t, i) { return i % TRACES === RAW ? n + (t.x ? t.x.length : 0) : n; }, 0);
    chart.div.dataset.points = String(points);
    const total = this.charts.reduce(function (n, c) { return n + Number(c.div.dataset.points); }, 0);
    this.root.dataset.boardPoints = String(total);
  };

  // The chart's series as a still picture on a canvas (band, line, title, the axes' ends): what a first visit sees while
  // plotly.js compiles. Marks the first paint; render() replaces it.
  Board.prototype.preview = function (chart) {
    if (chart.series.length === 0 || chart.div.querySelector(".board-preview")) {
      return;
    }
    chart.div.parentElement.hidden = false;
    const xs = this.xMode === "time" ? "times" : "steps";
    const log = this.log;
    const ys = function (v) { return v === null || v === undefined || !isFinite(v) || (log && v <= 0) ? null : log ? Math.log10(v) : v; };
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    chart.series.forEach(function (s) {
      const d = s.shown;
      for (let i = 0; i < d[xs].length; i++) {
        const x = d[xs][i];
        const lo = ys(d.level > 0 ? d.min[i] : d.y[i]), hi = ys(d.level > 0 ? d.max[i] : d.y[i]);
        if (lo === null && hi === null) {
          continue;
        }
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, lo === null ? hi : lo);
        y1 = Math.max(y1, hi === null ? lo : hi);
      }
    });
    if (!isFinite(x0) || !isFinite(y0)) {
      return;
    }
    if (x1 === x0) {
      x1 = x0 + 1;
    }
    if (y1 === y0) {
      y1 = y0 + 1;
    }
    const width = chart.div.clientWidth || 600, height = 320, ratio = window.devicePixelRatio || 1;
    const m = { t: 36, r: 10, l: 56, b: 40 };
    const canvas = document.createElement("canvas");
    canvas.className = "board-preview";
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", chart.title + " (loading the interactive chart)");
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    const px = function (x) { return m.l + (x - x0) / (x1 - x0) * (width - m.l - m.r); };
    const py = function (y) { return height - m.b - (y - y0) / (y1 - y0) * (height - m.t - m.b); };
    g.strokeStyle = "#ccc";
    g.strokeRect(m.l, m.t, width - m.l - m.r, height - m.t - m.b);
    chart.series.forEach(function (s) {
      const d = s.shown;
      if (d.level > 0) {
        g.fillStyle = rgba(s.color, 0.15);
        g.beginPath();
        let open = false;
        for (let i = 0; i < d[xs].length; i++) {
          const hi = ys(d.max[i]);
          if (hi !== null) {
            g[open ? "lineTo" : "moveTo"](px(d[xs][i]), py(hi));
            open = true;
          }
        }
        for (let i = d[xs].length - 1; i >= 0; i--) {
          const lo = ys(d.min[i]);
          if (lo !== null) {
            g.lineTo(px(d[xs][i]), py(lo));
          }
        }
        g.fill();
      }
      g.strokeStyle = s.color;
      g.lineWidth = 1.5;
      g.beginPath();
      let pen = false;
      for (let i = 0; i < d[xs].length; i++) {
        const y = ys(d.y[i]);
        if (y === null) {
          pen = false;
          continue;
        }
        g[pen ? "lineTo" : "moveTo"](px(d[xs][i]), py(y));
        pen = true;
      }
      g.stroke();
    });
    g.fillStyle = "#444";
    g.font = "14px sans-serif";
    g.textAlign = "center";
    g.fillText(chart.title, width / 2, 22);
    g.font = "11px sans-serif";
    const label = function (v, isY) {
      const value = isY && log ? Math.pow(10, v) : v;
      return !isY && xs === "times" ? new Date(value).toISOString().slice(11, 19) : Number(value.toPrecision(4)).toString();
    };
    g.textAlign = "right";
    g.fillText(label(y1, true), m.l - 4, m.t + 10);
    g.fillText(label(y0, true), m.l - 4, height - m.b);
    g.textAlign = "left";
    g.fillText(label(x0, false), m.l, height - m.b + 14);
    g.textAlign = "right";
    g.fillText(label(x1, false), width - m.r, height - m.b + 14);
    g.textAlign = "center";
    g.fillText(xs === "times" ? "time" : "step", width / 2, height - 8);
    chart.div.appendChild(canvas);
    chart.div.dataset.preview = "drawn";
    markFirstPaint("board-first-paint", "boardFirstPaint");
  };

  // One animation frame after the first chart is on screen: a performance mark and <html data-…> (the benches read them).
  const markFirstPaint = function (name, attribute) {
    if (firstPaint[attribute]) {
      return;
    }
    firstPaint[attribute] = true;
    window.requestAnimationFrame(function () {
      performance.mark(name);
      document.documentElement.dataset[attribute] = String(Math.round(performance.now()));
    });
  };

  Board.prototype.render = function (chart) {
    const self = this;
    const preview = chart.div.querySelector(".board-preview");
    if (preview) {
      preview.remove();
    }
    if (chart.series.length === 0) {
      chart.div.parentElement.hidden = true;
      return Promise.resolve();
    }
    chart.div.parentElement.hidden = false;
    this.pending.delete(chart); // drawn whole from the data, which holds them already
    return window.Plotly.react(chart.div, this.traces(chart), this.layout(chart), { responsive: true, displaylogo: false })
      .then(function () {
        self.count(chart);
        if (!chart.wired) {
          chart.wired = true;
          chart.div.on("plotly_relayout", function (event) { self.zoomed(chart, event); });
        }
        // The first chart plotly drew: interactive (hover, zoom); also the first paint when no preview came before.
        markFirstPaint("board-first-paint", "boardFirstPaint");
        markFirstPaint("board-interactive", "boardInteractive");
      });
  };

  Board.prototype.renderAll = function () {
    const self = this;
    return this.charts.reduce(function (p, chart) { return p.then(function () { return self.render(chart); }); }, Promise.resolve());
  };

  // Zooming into a chart that shows rollups asks for the visible steps (on the time axis, the steps logged in the visible
  // time) at a finer level; a reset goes back.
  Board.prototype.zoomed = function (chart, event) {
    const self = this;
    if (this.raw) {
      return;
    }
    if (event["xaxis.autorange"]) {
      if (chart.series.some(function (s) { return s.shown !== s.overview; })) {
        chart.series.forEach(function (s) { s.shown = s.overview; });
        this.render(chart);
      }
      return;
    }
    const range = Array.isArray(event["xaxis.range"]) ? event["xaxis.range"] : [event["xaxis.range[0]"], event["xaxis.range[1]"]];
    const time = this.xMode === "time";
    // A date axis reports its range as "YYYY-MM-DD hh:mm:ss.sss" in the same zone-less clock as the ms it was given.
    const at = function (v) { return typeof v === "number" ? v : typeof v === "string" ? Date.parse(v.replace(" ", "T") + "Z") : NaN; };
    const from = time ? at(range[0]) : range[0], to = time ? at(range[1]) : range[1];
    if (typeof from !== "number" || typeof to !== "number" || isNaN(from) || isNaN(to)) {
      return;
    }
    const coarse = chart.series.filter(function (s) { return s.overview.level > 0 || s.shown.level > 0; });
    if (coarse.length === 0) {
      return;
    }
    // The steps to ask for: on the step axis the range itself; on the time axis the steps whose times fall in it, per
    // run (from the overview, widened by a bucket on each side so the edges are covered).
    const steps = function (series) {
      if (!time) {
        return [Math.max(0, Math.floor(from)), Math.ceil(to)];
      }
      let lo = Infinity, hi = -Infinity;
      series.forEach(function (s) {
        const d = s.overview;
        for (let i = 0; i < d.times.length; i++) {
          if (d.times[i] >= from && d.times[i] <= to) {
            lo = Math.min(lo, d.steps[Math.max(0, i - 1)]);
            hi = Math.max(hi, d.steps[Math.min(d.steps.length - 1, i + 1)]);
          }
        }
      });
      return isFinite(lo) ? [lo, hi] : null;
    };
    window.clearTimeout(chart.zoomTimer);
    chart.zoomTimer = window.setTimeout(function () {
      const byRun = {};
      coarse.forEach(function (s) { (byRun[s.runId] = byRun[s.runId] || []).push(s); });
      Object.keys(byRun).forEach(function (runId) {
        const query = byRun[runId].map(function (s) { return "series=" + encodeURIComponent(s.name); }).join("&");
        const span = steps(byRun[runId]);
        if (!span) {
          return;
        }
        api("/api/v1/runs/" + runId + "/points?" + query + "&from=" + span[0] + "&to=" + span[1] + "&maxPoints=" + MAX_POINTS)
          .then(function (body) {
            (body.series || []).forEach(function (part) {
              const s = self.series[runId + "\n" + part.name];
              if (s) {
                s.shown = self.fromPart(part);
              }
            });
            chart.div.dataset.zoomLevel = String(Math.min.apply(null, (body.series || []).map(function (p) { return p.level || 0; })));
            return self.render(chart);
          })
          .catch(function () { /* the overview stays */ });
      });
    }, 200);
  };

  // Live: points since the last step seen, then every new batch; a reconnect sends the last steps again.
  Board.prototype.live = function () {
    const self = this;
    const liveApi = window.platformLive;
    if (!liveApi || this.raw) {
      return;
    }
    const onPoints = function (message) { self.onPoints(message); };
    const onRunUpdated = function (message) { self.onRunUpdated(message); };
    this.runIds.forEach(function (runId) {
      if (typeof liveApi.subscribeRun === "function") {
        // live.js deduplicates by step, resubscribes after reconnects and hands over { name: [[step, atMs, value]] }.
        liveApi.subscribeRun(runId, self.lastSteps[runId], function (series, info) {
          self.onPoints({ runId: runId, series: series });
          if (info && info.catchUp && info.complete === false) {
            self.reload(runId);
          }
        }, onRunUpdated);
        return;
      }
      if (!self.wiredHub) {
        self.wiredHub = true;
        liveApi.connection.on("Points", onPoints);
        liveApi.connection.on("RunUpdated", onRunUpdated);
      }
      liveApi.whenConnected(function (connection) {
        connection.invoke("SubscribeRun", runId, self.lastSteps[runId])
          .then(function (catchUp) { self.onCatchUp(catchUp); }, function () { /* not relayed: reloads still tell */ });
      });
    });
  };

  Board.prototype.onCatchUp = function (catchUp) {
    if (!catchUp) {
      return;
    }
    this.onPoints(catchUp);
    if (catchUp.complete === false) {
      this.reload(catchUp.runId);
    }
  };

  Board.prototype.reload = function (runId) {
    const self = this;
    api("/api/v1/runs/" + runId).then(function (run) {
      self.runs[run.id] = run;
      self.showRun(run);
      return self.loadPoints(run);
    }).then(function () { return self.renderAll(); }).catch(function () { /* the next message tries again */ });
  };

  Board.prototype.onPoints = function (message) {
    if (!message || !message.series || !this.runs[message.runId]) {
      return;
    }
    const runId = message.runId;
    const last = this.lastSteps[runId];
    const self = this;
    let fresh = 0;
    Object.keys(message.series).forEach(function (name) {
      const points = message.series[name];
      const known = !!self.series[runId + "\n" + name];
      const s = self.seriesOf(runId, name);
      const chart = self.charts.find(function (c) { return c.series.indexOf(s) >= 0; });
      points.forEach(function (p) {
        const step = p[0];
        if (last[name] !== undefined && step <= last[name]) {
          return; // already drawn (the REST load or an earlier message)
        }
        last[name] = step;
        fresh += 1;
        const added = push(s.overview, self.weight, step, p[1], number(p[2]));
        if (s.shown !== s.overview) {
          push(s.shown, self.weight, step, p[1], number(p[2]));
        }
        if (known) {
          let queue = self.pending.get(chart);
          if (!queue) {
            queue = [];
            self.pending.set(chart, queue);
          }
          queue.push([chart.series.indexOf(s), added]);
        }
      });
      if (!known) {
        self.render(chart); // a new series: its chart (or its place in one) is drawn whole
      }
    });
    if (fresh > 0) {
      this.status("");
      this.root.querySelector(".board-toolbar").hidden = false;
      this.schedule();
    }
  };

  Board.prototype.schedule = function () {
    const self = this;
    if (this.frame) {
      return;
    }
    this.frame = window.requestAnimationFrame(function () {
      self.frame = 0;
      self.flush();
    });
  };

  // One extendTraces per chart per frame, whatever the number of messages.
  Board.prototype.flush = function () {
    const self = this;
    const pending = this.pending;
    this.pending = new Map();
    pending.forEach(function (queue, chart) {
      if (!chart.div.data) {
        self.render(chart);
        return;
      }
      const updates = {}; // trace index → { x: [], y: [], text: [] }
      const at = function (index) {
        return updates[index] || (updates[index] = { x: [], y: [], text: [] });
      };
      queue.forEach(function (entry) {
        const base = entry[0] * TRACES;
        const a = entry[1];
        const x = self.xMode === "time" ? a.time : a.step;
        const s = chart.series[entry[0]];
        if (s.shown.level > 0) {
          at(base).x.push(x); at(base).y.push(a.min);
          at(base + 1).x.push(x); at(base + 1).y.push(a.max);
        }
        at(base + RAW).x.push(x); at(base + RAW).y.push(a.y);
        at(base + SMOOTH).x.push(x); at(base + SMOOTH).y.push(a.smooth);
        if (a.mark) {
          at(base + MARKS).x.push(x); at(base + MARKS).y.push(a.mark.y); at(base + MARKS).text.push(a.mark.text);
        }
      });
      const indices = Object.keys(updates).map(Number);
      const marks = indices.some(function (i) { return i % TRACES === MARKS; });
      if (marks) {
        self.render(chart); // the annotation counts them: redraw whole (rare)
        return;
      }
      window.Plotly.extendTraces(chart.div, {
        x: indices.map(function (i) { return updates[i].x; }),
        y: indices.map(function (i) { return updates[i].y; })
      }, indices);
      self.count(chart);
    });
  };

  Board.prototype.showRun = function (run) {
    if (this.mode === "compare" || !run) {
      return;
    }
    const page = this.mode === "run" ? document : this.root.parentElement;
    const badge = page.querySelector("[data-board-state]");
    if (badge && run.state) {
      badge.textContent = run.state;
      badge.className = badge.className.replace(/\btext-bg-\S+/, "text-bg-" + (run.state === "open" ? "primary" : "secondary"));
    }
    const summary = page.querySelector("[data-board-summary]");
    if (summary && typeof run.pointCount === "number") {
      summary.textContent = formatCount(run.pointCount) + " points";
    }
    let dropped = page.querySelector("[data-board-dropped]");
    if (!dropped && this.mode === "job") {
      dropped = document.createElement("div");
      dropped.className = "alert alert-warning board-dropped";
      dropped.dataset.boardDropped = "";
      dropped.hidden = true;
      this.root.insertBefore(dropped, this.root.firstChild);
    }
    if (dropped && typeof run.dropped === "number") {
      dropped.hidden = run.dropped === 0;
      dropped.textContent = formatCount(run.dropped) + " point" + (run.dropped === 1 ? " was" : "s were") + " dropped while the platform was unreachable.";
    }
  };

  Board.prototype.onRunUpdated = function (message) {
    if (!message || !this.runs[message.runId]) {
      return;
    }
    const run = this.runs[message.runId];
    if (message.deleted) {
      this.status("This run was deleted.");
      this.root.dataset.boardDeleted = "true";
      return;
    }
    ["state", "pointCount", "dropped"].forEach(function (k) {
      if (message[k] !== undefined && message[k] !== null) {
        run[k] = message[k];
      }
    });
    this.showRun(run);
    if (this.mode !== "compare" && message.graphs && JSON.stringify(message.graphs) !== JSON.stringify(run.graphs || [])) {
      // draw_board changed the grouping: lay the charts out again from the REST API.
      run.graphs = message.graphs;
      this.relayout();
    }
  };

  Board.prototype.relayout = function () {
    const self = this;
    const kept = this.series;
    this.charts.forEach(function (c) { window.Plotly.purge(c.div); });
    this.root.querySelector("[data-board-charts]").textContent = "";
    this.charts = [];
    this.series = {};
    this.layoutCharts();
    Object.keys(kept).forEach(function (key) {
      const old = kept[key];
      const s = self.seriesOf(old.runId, old.name);
      s.overview = old.overview;
      s.shown = old.shown;
    });
    this.renderAll();
  };

  window.platformBoard = { Board: Board, number: number };

  const start = function () {
    document.querySelectorAll("[data-board]").forEach(function (root) {
      if (root.platformBoard) {
        return;
      }
      const board = new Board(root);
      root.platformBoard = board;
      board.start();
    });
  };
  // The script comes after its [data-board] elements: start at once, so the REST calls overlap the parsing of plotly.js.
  start();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
