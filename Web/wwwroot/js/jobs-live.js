// Live job pages: /Jobs (data-live-jobs="list") and /Jobs/{id} ("details"). The hub's "JobUpdated" messages (to the
// user's group, and to job:{id} once this page subscribes) redraw the state badge, the queue line, the reason and the
// progress in place; a job page whose job changes state reloads, since its replicas, timeline and buttons follow it.
// Without a connection the pages are still right on every reload.
(function () {
  "use strict";
  const root = document.querySelector("[data-live-jobs]");
  if (!root) {
    return;
  }

  const details = root.dataset.liveJobs === "details";
  const tones = { running: "primary", succeeded: "success", failed: "danger", queued: "warning", starting: "warning", stopping: "warning" };

  const duration = function (seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) {
      return seconds + " s";
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
    }
    return Math.floor(seconds / 86400) + " d " + Math.floor((seconds % 86400) / 3600) + " h";
  };
  const ordinal = function (n) {
    const s = ["th", "st", "nd", "rd"];
    const v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  };
  const queueLine = function (u) {
    const parts = [u.queueReason || "waiting for the scheduler"];
    if (typeof u.queuePosition === "number") {
      parts.push(ordinal(u.queuePosition) + " in line");
    }
    if (u.estimatedStartAt) {
      const wait = (new Date(u.estimatedStartAt) - Date.now()) / 1000;
      parts.push(wait <= 0 ? "any moment now" : "about " + duration(wait));
    }
    return "queued: " + parts.join(", ");
  };

  const setProgress = function (element, u) {
    const bar = element.querySelector(".job-progress");
    const block = element.querySelector(".job-progress-block") || bar;
    if (bar && typeof u.progress === "number") {
      const percent = Math.round(Math.max(0, Math.min(1, u.progress)) * 100);
      block.hidden = false;
      bar.hidden = false;
      bar.setAttribute("aria-valuenow", String(percent));
      const inner = bar.querySelector(".progress-bar");
      inner.style.width = percent + "%";
      inner.textContent = percent + "%";
    }
    const message = element.querySelector(".job-progress-message");
    if (message && u.progressMessage !== undefined) {
      message.textContent = u.progressMessage || "";
      message.hidden = !u.progressMessage;
    }
  };

  const apply = function (element, u) {
    if (details && element.dataset.state !== u.state) {
      window.setTimeout(function () { window.location.reload(); }, 150);
      return;
    }
    element.dataset.state = u.state;
    const badge = element.querySelector(".job-state");
    if (badge) {
      badge.textContent = u.state;
      badge.className = badge.className.replace(/\btext-bg-\S+/, "text-bg-" + (tones[u.state] || "secondary"));
    }
    const queue = element.querySelector(".job-queue");
    if (queue) {
      queue.hidden = u.state !== "queued";
      if (u.state === "queued") {
        queue.textContent = queueLine(u);
      }
    }
    const reason = element.querySelector(".job-reason");
    if (reason && !details) {
      reason.textContent = u.state === "queued" ? queueLine(u) : (u.reason || "");
    }
    const elapsed = element.querySelector(".job-elapsed");
    if (elapsed && u.startedAt) {
      elapsed.dataset.started = u.startedAt;
      elapsed.hidden = false;
    }
    setProgress(element, u);
  };

  const onUpdate = function (u) {
    if (!u || !u.id) {
      return;
    }
    document.querySelectorAll('[data-job-id="' + u.id + '"]').forEach(function (element) { apply(element, u); });
  };

  // Elapsed times on the running cards tick every second.
  window.setInterval(function () {
    document.querySelectorAll(".job-elapsed[data-started]").forEach(function (element) {
      const started = Date.parse(element.dataset.started);
      const target = element.querySelector("[data-elapsed]");
      if (!isNaN(started) && target) {
        target.textContent = duration((Date.now() - started) / 1000);
      }
    });
  }, 1000);

  const live = window.platformLive;
  if (!live) {
    return;
  }
  live.connection.on("JobUpdated", onUpdate);
  live.whenConnected(function (connection) {
    if (details) {
      connection.invoke("SubscribeJob", root.dataset.jobId).catch(function () { /* not relayed yet: reloads still tell */ });
    }
  });
})();
