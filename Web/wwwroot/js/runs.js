// The runs list (/Runs) and the jobs list (/Jobs): pick runs with the checkboxes ([data-run-pick], value = run id) and
// Compare them (/Runs/Compare?ids=…&ids=…, at most data-runs-max), or, on /Runs, delete one through the REST API after
// the layout's confirmation dialog (site.js asks for any form with data-confirm). /Runs ([data-runs-live]) also follows
// the user's runs live: the hub's "RunsChanged" (at most twice a second) has the list redrawn from the server, at most
// once a second, keeping the picks. /Jobs ([data-jobs-runs]) hears of the same runs: when one it does not show yet
// appears (a job's script began to log metrics), the page is read again and the job's row gets its pick box.
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

  if (!window.platformLive) {
    return;
  }
  const bump = function (element, key) {
    element.dataset[key] = String(parseInt(element.dataset[key] || "0", 10) + 1);
  };
  const values = function (nodes, of) {
    return Array.prototype.map.call(nodes, of);
  };

  // Follows the user's runs for a page: the hub is told the runs the page shows (shown()), and a "RunsChanged" that
  // wanted(message) keeps has the page read again from its own address (its filters, scope and page), at most once a
  // second and one fetch at a time; apply(document, startedAt) takes what it needs from the fresh page. A reconnect (or a
  // resync) reads it once, since whatever changed meanwhile was not heard.
  const followRuns = function (element, shown, wanted, apply) {
    const connection = window.platformLive.connection;
    const watch = function () {
      return connection.invoke("SubscribeRuns", element.dataset.scope || null, shown()).then(function () {
        bump(element, "watched");
      }, function () { /* reconnecting: watched again then */ });
    };
    let fetching = false;
    let again = false;
    let timer = 0;
    let lastAt = 0;
    const read = function () {
      timer = 0;
      fetching = true;
      again = false;
      const startedAt = lastAt = Date.now();
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(window.location.pathname + ": " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          return apply(new DOMParser().parseFromString(html, "text/html"), startedAt) && watch();
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
        timer = window.setTimeout(read, Math.max(0, lastAt + 1000 - Date.now()));
      }
    };
    connection.on("RunsChanged", function (message) {
      if (wanted(message)) {
        schedule();
      }
    });
    let connected = false;
    window.platformLive.whenConnected(function () {
      watch();
      if (connected) {
        schedule();
      }
      connected = true;
    });
  };

  // /Jobs: a run the page does not offer yet has the page read again, and only the pick cells of the rows that lack a
  // box are taken from it; everything else on the page stays as it is (jobs-live.js keeps it). A run asked about once
  // is not asked about again: a notebook's run (no job) or a job on another page keeps growing, and its "RunsChanged"
  // must not have this page read twice a second.
  const jobs = document.querySelector("[data-jobs-runs]");
  if (jobs) {
    const picks = function () {
      return values(jobs.querySelectorAll("[data-run-pick]"), function (box) { return box.value; });
    };
    const seen = new Set();
    const asked = new Map(); // run id → when a message first named it
    followRuns(jobs, picks, function (message) {
      const offered = new Set(picks());
      const unknown = (message && message.runIds || []).filter(function (id) { return !offered.has(id) && !seen.has(id); });
      unknown.forEach(function (id) {
        if (!asked.has(id)) {
          asked.set(id, Date.now());
        }
      });
      return unknown.length > 0;
    }, function (fresh, startedAt) {
      asked.forEach(function (at, id) {
        if (at <= startedAt) { // this read began after the message: what it shows is all there is of that run here
          seen.add(id);
          asked.delete(id);
        }
      });
      let added = 0;
      jobs.querySelectorAll("tr.job[data-job-id]").forEach(function (row) {
        const cell = row.querySelector("[data-run-pick-cell]");
        const theirs = fresh.querySelector('tr.job[data-job-id="' + row.dataset.jobId + '"] [data-run-pick-cell]');
        if (cell && theirs && !cell.querySelector("[data-run-pick]") && theirs.querySelector("[data-run-pick]")) {
          cell.innerHTML = theirs.innerHTML;
          added++;
        }
      });
      if (added === 0) {
        return false;
      }
      const bar = jobs.querySelector("[data-runs-compare-bar]");
      if (bar) {
        bar.hidden = false;
      }
      refresh();
      jobs.dataset.picksAdded = String(parseInt(jobs.dataset.picksAdded || "0", 10) + added);
      return true;
    });
  }

  // /Runs: the list is redrawn whole, so what it shows is always what a reload would show, keeping the picks; the hub
  // is told the runs it shows, so their deletion is heard too.
  const list = document.querySelector("[data-runs-live]");
  if (list) {
    followRuns(list, function () {
      return values(list.querySelectorAll("tr.run[data-run-id]"), function (row) { return row.dataset.runId; });
    }, function () {
      return true;
    }, function (page) {
      const fresh = page.querySelector("[data-runs-live]");
      if (!fresh) {
        return false;
      }
      const picked = new Set(values(list.querySelectorAll("[data-run-pick]:checked"), function (box) { return box.value; }));
      list.innerHTML = fresh.innerHTML;
      list.querySelectorAll("[data-run-pick]").forEach(function (box) { box.checked = picked.has(box.value); });
      bump(list, "redrawn");
      refresh();
      return true;
    });
  }
})();
