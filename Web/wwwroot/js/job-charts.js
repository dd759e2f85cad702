// Usage charts (CPU, memory, GPU, network, disk I/O per replica) for every [data-usage-url] section on the page: a job's
// (_JobCharts) or a deployment's. While the workload runs, the series are fetched again every 10 s (one sample period).
(function () {
  "use strict";
  if (window.platformUsageCharts) {
    return; // the script may be included twice (a page with the partial and a layout section)
  }
  window.platformUsageCharts = true;

  var charts = {
    cpu: { title: "CPU (cores)", traces: [["cpu", ""]] },
    memory: { title: "Memory (MiB)", traces: [["memory", ""]], scale: 1 / 1048576 },
    gpu: { title: "GPU (%)", traces: [["gpu", ""]] },
    network: { title: "Network (KiB per 10 s)", traces: [["netRx", " in"], ["netTx", " out"]], scale: 1 / 1024 },
    disk: { title: "Disk (KiB per 10 s)", traces: [["diskRead", " read"], ["diskWrite", " written"]], scale: 1 / 1024 }
  };

  function plot(section, data) {
    section.querySelectorAll(".usage-chart").forEach(function (target) {
      var chart = charts[target.getAttribute("data-metric")];
      var traces = [];
      data.replicas.forEach(function (replica) {
        chart.traces.forEach(function (t) {
          var values = replica[t[0]].map(function (v) { return v === null ? null : v * (chart.scale || 1); });
          traces.push({ x: replica.t, y: values, name: replica.replica + t[1], type: "scatter", mode: "lines", connectgaps: false });
        });
      });
      var measured = traces.some(function (t) { return t.y.some(function (v) { return v !== null; }); });
      window.Plotly.react(target, traces, {
        title: { text: chart.title + (measured ? "" : " · not measured"), font: { size: 14 } },
        margin: { t: 36, r: 10, l: 50, b: 36 },
        legend: { orientation: "h" },
        yaxis: { rangemode: "tozero" }
      }, { responsive: true, displaylogo: false });
    });
  }

  function load(section) {
    var status = section.querySelector(".usage-charts-status");
    fetch(section.getAttribute("data-usage-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error(r.status === 404 ? "No usage for this workload." : "Usage could not be loaded (" + r.status + ").");
        }
        return r.json();
      })
      .then(function (data) {
        var notes = section.querySelector(".usage-charts-notes");
        notes.textContent = "";
        data.notes.forEach(function (n) {
          var li = document.createElement("li");
          li.textContent = n;
          notes.appendChild(li);
        });
        var points = data.replicas.reduce(function (sum, r) { return sum + r.t.length; }, 0);
        status.textContent = points === 0 ? (data.running ? "No samples yet: the first arrive within 20 seconds." : "No samples were recorded.")
          : data.running ? "Live: one point per 10 seconds." : "Finished: samples are kept for 30 days.";
        if (window.Plotly && points > 0) {
          plot(section, data);
        }
        if (data.running) {
          setTimeout(function () { load(section); }, 10000);
        }
      })
      .catch(function (e) {
        status.textContent = e.message;
      });
  }

  function start() {
    document.querySelectorAll("[data-usage-url]").forEach(load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
