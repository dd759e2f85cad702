// The usage page's chart: CPU-hours (jobs and IDEs stacked) on the left axis, GPU-hours as lines on the right.
(function () {
  "use strict";
  var data = document.getElementById("usage-data");
  var target = document.getElementById("usage-chart");
  if (!data || !target || !window.Plotly) {
    return;
  }

  var buckets = JSON.parse(data.textContent);
  var x = buckets.map(function (b) { return b.start; });
  function series(name, key, extra) {
    return Object.assign({ x: x, y: buckets.map(function (b) { return b[key]; }), name: name }, extra);
  }

  window.Plotly.newPlot(target, [
    series("Jobs CPU-hours", "jobCpuHours", { type: "bar" }),
    series("IDEs CPU-hours", "ideCpuHours", { type: "bar" }),
    series("Jobs GPU-hours", "jobGpuHours", { type: "scatter", mode: "lines+markers", yaxis: "y2" }),
    series("IDEs GPU-hours", "ideGpuHours", { type: "scatter", mode: "lines+markers", yaxis: "y2" })
  ], {
    barmode: "stack",
    margin: { t: 10, r: 60, l: 50, b: 40 },
    legend: { orientation: "h" },
    yaxis: { title: { text: "CPU-hours" }, rangemode: "tozero" },
    yaxis2: { title: { text: "GPU-hours" }, overlaying: "y", side: "right", rangemode: "tozero" }
  }, { responsive: true, displaylogo: false });
})();
