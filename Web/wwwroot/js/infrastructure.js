// Refreshes the infrastructure page's bars every 5 seconds from the page's own JSON handler.
(function () {
  "use strict";
  var root = document.getElementById("nodes");
  if (!root) {
    return;
  }

  function fmt(v) { return (Math.round(v * 100) / 100).toString(); }
  function gib(bytes) { return (Math.round(bytes / 1073741824 * 10) / 10).toString(); }

  function set(card, key, percent, text) {
    var bar = card.querySelector('[data-bar="' + key + '"]');
    if (!bar) {
      return;
    }
    bar.querySelector(".bar-text").textContent = text;
    var clamped = Math.max(0, Math.min(100, percent));
    bar.querySelector(".progress-bar").style.width = clamped + "%";
    bar.querySelector(".progress").setAttribute("aria-valuenow", Math.round(clamped));
  }

  function render(nodes) {
    nodes.forEach(function (n) {
      var card = root.querySelector('[data-node="' + CSS.escape(n.name) + '"]');
      if (!card) {
        return;
      }
      card.querySelector(".node-running").textContent = n.runningReplicas + (n.runningReplicas === 1 ? " job replica, " : " job replicas, ")
        + n.runningDeployments + (n.runningDeployments === 1 ? " IDE or API" : " IDEs and APIs");
      set(card, "cpus", n.cpus > 0 ? 100 * n.allocatedCpus / n.cpus : 0, fmt(n.allocatedCpus) + " of " + fmt(n.cpus));
      set(card, "gpus", n.gpus > 0 ? 100 * n.allocatedGpus / n.gpus : 0, n.allocatedGpus + " of " + n.gpus);
      set(card, "memory", n.memoryMiB > 0 ? 100 * n.allocatedMemoryMiB / n.memoryMiB : 0,
        fmt(n.allocatedMemoryMiB / 1024) + " GiB of " + fmt(n.memoryMiB / 1024) + " GiB");
      set(card, "live-cpu", n.cpuPercent || 0, n.cpuPercent === null ? "not measured" : fmt(n.cpuPercent) + " %");
      set(card, "live-memory", n.memoryTotalBytes ? 100 * n.memoryUsedBytes / n.memoryTotalBytes : 0,
        n.memoryTotalBytes ? gib(n.memoryUsedBytes) + " GiB of " + gib(n.memoryTotalBytes) + " GiB" : "not measured");
    });
  }

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(root.getAttribute("data-refresh"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (nodes) { if (nodes) { render(nodes); } })
      .catch(function () { /* the next tick tries again */ });
  }

  setInterval(refresh, 5000);
})();
