// The runs list (/Runs) and the jobs list (/Jobs): pick runs with the checkboxes ([data-run-pick], value = run id) and
// Compare them (/Runs/Compare?ids=…&ids=…, at most data-runs-max), or, on /Runs, delete one through the REST API after
// the layout's confirmation dialog (site.js asks for any form with data-confirm). /Runs ([data-runs-live]) also follows
// the user's runs live: the hub's "RunsChanged" (at most twice a second) has the list redrawn from the server, at most
// once a second, keeping the picks.
(function () {
  "use strict";
  const refresh = function () {
    document.querySelectorAll("[data-runs-compare]").forEach(function (compare) {
      const button = compare.querySelector("[data-runs-compare-button]");
      const picked = compare.querySelector("[data-runs-picked]");
      if (!button || !picked) {
        return;
      }
      const max = parseInt(compare.dataset.runsMax || "20", 10);
      const n = compare.querySelectorAll("[data-run-pick]:checked").length;
      button.disabled = n < 1 || n > max;
      picked.textContent = n === 0 ? picked.dataset.hint
        : n > max ? n + " runs picked: at most " + max + " compare at once."
        : n + " run" + (n === 1 ? "" : "s") + " picked" + (n === 1 ? " (one run opens on its own)" : "") + ".";
    });
  };
  document.addEventListener("change", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-runs-compare]")) {
      refresh();
    }
  });
  refresh();

  // Delete: a throw-away form carries the question, so the shared dialog asks; once confirmed, DELETE /api/v1/runs/{id}.
  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("[data-run-delete]");
    if (!trigger) {
      return;
    }
    const form = document.createElement("form");
    form.hidden = true;
    form.dataset.confirm = trigger.dataset.confirmQuestion;
    form.dataset.runDeleteForm = trigger.dataset.runDelete;
    document.body.appendChild(form);
    form.requestSubmit();
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.runDeleteForm || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    const id = form.dataset.runDeleteForm;
    form.remove();
    fetch("/api/v1/runs/" + encodeURIComponent(id), {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok && response.status !== 404) {
        throw new Error("The run could not be deleted (" + response.status + ").");
      }
      const row = document.querySelector('tr.run[data-run-id="' + id + '"]');
      if (row) {
        row.remove();
      }
      if (!document.querySelector("tr.run")) {
        window.location.reload();
      }
      refresh();
    }).catch(function (error) {
      window.alert(error.message);
    });
  });

  // Live: the list is redrawn from this page's own address (its filters, scope and page), so what it shows is always
  // what a reload would show; the hub is told the runs it shows, so their deletion is heard too.
  const list = document.querySelector("[data-runs-live]");
  if (!list || !window.platformLive) {
    return;
  }
  const connection = window.platformLive.connection;
  const shown = function () {
    return Array.prototype.map.call(list.querySelectorAll("tr.run[data-run-id]"), function (row) { return row.dataset.runId; });
  };
  const watch = function () {
    return connection.invoke("SubscribeRuns", list.dataset.scope || null, shown()).then(function () {
      list.dataset.watched = String(parseInt(list.dataset.watched || "0", 10) + 1);
    }, function () { /* reconnecting: watched again then */ });
  };
  let fetching = false;
  let again = false;
  let timer = 0;
  let lastAt = 0;
  const redraw = function () {
    timer = 0;
    fetching = true;
    again = false;
    lastAt = Date.now();
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("runs list: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-runs-live]");
        if (!fresh) {
          return;
        }
        const picked = new Set(Array.prototype.map.call(list.querySelectorAll("[data-run-pick]:checked"), function (box) { return box.value; }));
        list.innerHTML = fresh.innerHTML;
        list.querySelectorAll("[data-run-pick]").forEach(function (box) { box.checked = picked.has(box.value); });
        list.dataset.redrawn = String(parseInt(list.dataset.redrawn || "0", 10) + 1);
        refresh();
        return watch();
      })
      .catch(function (error) { console.error(error); })
      .then(function () {
        fetching = false;
        if (again) {
          schedule();
        }
      });
  };
  const schedule = function () {
    if (fetching) {
      again = true;
      return;
    }
    if (!timer) {
      timer = window.setTimeout(redraw, Math.max(0, lastAt + 1000 - Date.now()));
    }
  };
  connection.on("RunsChanged", schedule);
  let connected = false;
  window.platformLive.whenConnected(function () {
    watch();
    if (connected) {
      // A reconnect or a resync: whatever changed meanwhile was not heard.
      schedule();
    }
    connected = true;
  });
})();
