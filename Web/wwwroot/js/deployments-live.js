// Live deployment pages: /Deployments (data-live-deployments="list") and /Deployments/{id} ("details").
// Observation (state badge, reason, progress, the Open link, events) is redrawn in place from the hub's "deployment"
// messages; a change of desire (a newer generation: someone pressed Stop or Start elsewhere) reloads the page, whose
// buttons depend on it. After every (re)connect the page catches up from the REST API / the subscription's answer.
(function () {
  "use strict";
  const live = window.platformLive;
  const root = document.querySelector("[data-live-deployments]");
  if (!live || !root) {
    return;
  }

  const details = root.dataset.liveDeployments === "details";
  const tones = { running: "success", failed: "danger", queued: "warning", starting: "warning", stopping: "warning" };
  const pad = function (n) { return String(n).padStart(2, "0"); };

  const inTransition = function (u) {
    return ["queued", "starting", "stopping"].indexOf(u.observed) >= 0 || u.desired === "deleted"
      || (u.desired === "running" && u.observed === "stopped") || (u.desired === "stopped" && u.observed === "running");
  };

  let reloading = false;
  const reload = function () {
    if (!reloading) {
      reloading = true;
      window.setTimeout(function () { window.location.reload(); }, 150);
    }
  };

  // u: a DeploymentUpdate from the hub, or a DeploymentResponse from the REST API (no events, no openable).
  const apply = function (element, u) {
    if (Number(u.generation) > Number(element.dataset.generation || 0)) {
      reload();
      return;
    }
    element.dataset.observed = u.observed;
    const badge = element.querySelector(".deployment-state");
    if (badge) {
      badge.textContent = u.observed;
      badge.className = badge.className.replace(/\btext-bg-\S+/, "text-bg-" + (tones[u.observed] || "secondary"));
    }
    const wanted = element.querySelector("[data-deployment-wanted]");
    if (wanted) {
      wanted.hidden = u.desired === "running" && u.observed === "running";
    }
    const reason = element.querySelector(".deployment-reason");
    if (reason) {
      reason.textContent = u.reason || "";
      reason.hidden = !u.reason;
    }
    const open = element.querySelector("[data-deployment-open]");
    if (open) {
      open.hidden = !(u.observed === "running" && u.desired === "running");
      if (u.url) {
        open.href = u.url;
      }
    }
    const progress = element.querySelector("[data-deployment-progress]");
    if (progress) {
      progress.hidden = !inTransition(u);
      const step = u.events && u.events.length > 0 ? u.events[u.events.length - 1].message : null;
      const text = progress.querySelector("[data-deployment-step]");
      if (step && text) {
        text.textContent = step;
      }
    }
  };

  const json = function (url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(new Error(url + ": " + response.status)); });
  };

  if (!details) {
    const rows = function () { return root.querySelectorAll("tr.deployment[data-id]"); };
    const rowOf = function (id) { return root.querySelector("tr.deployment[data-id=\"" + id + "\"]"); };
    live.connection.on("deployment", function (u) {
      const row = rowOf(u.id);
      if (row && u.observed === "deleted") {
        row.remove();
      } else if (row) {
        apply(row, u);
      } else if (u.observed !== "deleted" && root.dataset.firstPage === "true") {
        reload(); // new here (made in another tab or by the SDK): the list shows it on top
      }
    });
    live.whenConnected(function () {
      if (rows().length === 0) {
        return;
      }
      json("/api/v1/deployments?pageSize=100").then(function (page) {
        page.items.forEach(function (d) {
          const row = rowOf(d.id);
          if (row) {
            apply(row, d);
          }
        });
      }).catch(function (error) { console.warn(error); });
    });
    return;
  }

  // Details: the deployment, and its events when the newest page of them is shown.
  const id = root.dataset.id;
  const list = document.querySelector("[data-deployment-events]");
  let known = Number(list ? list.dataset.eventsTotal : 0);
  let lastId = 0;
  document.querySelectorAll("[data-event-id]").forEach(function (e) { lastId = Math.max(lastId, Number(e.dataset.eventId)); });

  const appendEvent = function (e) {
    if (!list || e.id <= lastId) {
      return;
    }
    lastId = e.id;
    known += 1;
    const item = document.createElement("li");
    item.className = "list-group-item d-flex gap-3";
    item.dataset.eventId = String(e.id);
    const at = new Date(e.at);
    const time = document.createElement("time");
    time.dateTime = e.at;
    time.title = e.at;
    time.textContent = at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) + " " + pad(at.getHours()) + ":" + pad(at.getMinutes());
    const when = document.createElement("span");
    when.className = "small text-body-secondary text-nowrap";
    when.appendChild(time);
    const state = document.createElement("span");
    state.className = "badge text-bg-light border align-self-start";
    state.textContent = e.state;
    const message = document.createElement("span");
    message.className = "text-break";
    message.textContent = e.message;
    item.append(when, state, message);
    list.appendChild(item);
    list.hidden = false;
    const none = document.querySelector("[data-deployment-no-events]");
    if (none) {
      none.remove();
    }
  };

  // Events the update does not carry (more were written than it holds): the newest page from the REST API.
  const catchUpEvents = function () {
    const size = 100;
    return json("/api/v1/deployments/" + id + "/events?pageSize=1").then(function (first) {
      const last = Math.max(1, Math.ceil(first.total / size));
      return json("/api/v1/deployments/" + id + "/events?pageSize=" + size + "&page=" + last);
    }).then(function (page) {
      page.items.forEach(appendEvent);
      known = Math.max(known, page.total);
    }).catch(function (error) { console.warn(error); });
  };

  const update = function (u) {
    if (u.id !== id) {
      return;
    }
    if (u.observed === "deleted") {
      window.location.assign("/Deployments");
      return;
    }
    apply(root, u);
    if (!list) {
      return;
    }
    const fresh = (u.events || []).filter(function (e) { return e.id > lastId; });
    if (u.eventsTotal - known > fresh.length) {
      catchUpEvents();
    } else {
      fresh.forEach(appendEvent);
    }
  };

  live.connection.on("deployment", update);
  live.whenConnected(function (connection) {
    // Groups belong to a connection: every new one subscribes again, and the answer is the state right now.
    connection.invoke("SubscribeDeployment", id).then(update, function (error) { console.warn(error); });
  });
})();
