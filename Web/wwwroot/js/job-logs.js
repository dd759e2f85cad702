// A job's logs per replica ([data-job-logs], Pages/Jobs/_JobLogs.cshtml): the last lines from the logs API, then new
// lines live. Live means SignalR through window.platformLive (SubscribeJob, then "JobLog" messages, one per shipped
// chunk); each chunk has a seq, so a skipped one (a message lost while reconnecting, a burst the relay did not send)
// is fetched from the API with ?after=, and so is everything after a reconnect. Without the hub it long-polls the API.
(function () {
  "use strict";
  const MAX_CHARS = 2000000; // what the page keeps; older text is dropped from the top (the download has it all)

  const api = function (url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  };

  const init = function (root) {
    const jobId = root.dataset.jobId;
    const tail = root.dataset.tail || "500";
    const select = root.querySelector("[data-job-logs-replica]");
    const text = root.querySelector("[data-job-logs-text]");
    const pause = root.querySelector("[data-job-logs-pause]");
    const download = root.querySelector("[data-job-logs-download]");
    const status = root.querySelector("[data-job-logs-status]");
    const base = "/api/v1/jobs/" + encodeURIComponent(jobId) + "/logs";
    let replica = select.value;
    let next = -1; // the last seq shown
    let loaded = false; // the tail is in
    let fetching = false; // a catch-up is in flight
    let again = false; // another catch-up was asked for meanwhile
    let finished = false;
    let paused = false;
    let generation = 0; // bumped on every replica change: answers for an older choice are dropped

    const say = function (message) { status.textContent = message; };

    const append = function (chunks) {
      if (chunks.length === 0) {
        return;
      }
      text.append(document.createTextNode(chunks.join("")));
      if (text.textContent.length > MAX_CHARS) {
        text.textContent = text.textContent.slice(-MAX_CHARS);
      }
      if (!paused) {
        text.scrollTop = text.scrollHeight;
      }
    };

    const took = function (page) {
      append(page.chunks.map(function (c) { return c.text; }));
      next = Math.max(next, page.next);
      finished = page.finished;
      say(finished ? "finished" : (window.platformLive ? "following live" : "following"));
    };

    // Everything after `next`, page after page; one at a time (a second request while one runs is folded into it).
    const catchUp = function () {
      if (!loaded) {
        return;
      }
      if (fetching) {
        again = true;
        return;
      }
      fetching = true;
      again = false;
      const mine = generation;
      api(base + "?replica=" + encodeURIComponent(replica) + "&after=" + next).then(function (page) {
        fetching = false;
        if (mine !== generation) {
          return;
        }
        took(page);
        if (page.chunks.length > 0 || again) {
          catchUp();
        }
      }, function () {
        fetching = false;
        say("could not reach the logs; retrying");
        window.setTimeout(catchUp, 3000);
      });
    };

    // Without the hub: ask for what follows, waiting up to 25 s each time, until the replica is finished.
    const poll = function () {
      const mine = generation;
      api(base + "?replica=" + encodeURIComponent(replica) + "&after=" + next + "&wait=25").then(function (page) {
        if (mine !== generation) {
          return;
        }
        took(page);
        if (!finished) {
          poll();
        }
      }, function () {
        if (mine === generation) {
          window.setTimeout(poll, 3000);
        }
      });
    };

    const load = function () {
      generation += 1;
      const mine = generation;
      loaded = false;
      finished = false;
      next = -1;
      text.textContent = "";
      say("loading…");
      download.href = base + "/download?replica=" + encodeURIComponent(replica);
      api(base + "?replica=" + encodeURIComponent(replica) + "&tail=" + tail).then(function (page) {
        if (mine !== generation) {
          return;
        }
        loaded = true;
        if (page.chunks.length === 0 && page.finished) {
          say("finished: no output");
          return;
        }
        took(page);
        if (window.platformLive) {
          catchUp(); // lines shipped between the tail and the subscription
        } else if (!finished) {
          poll();
        }
      }, function (error) {
        if (mine === generation) {
          say("could not load the log (" + error.message + ")");
        }
      });
    };

    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
      pause.textContent = paused ? "Resume" : "Pause";
      if (!paused) {
        text.scrollTop = text.scrollHeight;
      }
    });

    select.addEventListener("change", function () {
      replica = select.value;
      load();
    });

    if (window.platformLive) {
      const connection = window.platformLive.connection;
      connection.on("JobLog", function (message) {
        if (message.jobId !== jobId || message.replica !== replica || !loaded) {
          return;
        }
        if (message.seq <= next) {
          return; // already shown
        }
        if (message.seq === next + 1 && !fetching) {
          append([message.text]);
          next = message.seq;
          say("following live");
        } else {
          catchUp(); // a gap: fetch what is missing (this chunk included)
        }
      });
      connection.on("JobUpdated", function (update) {
        if (update.id === jobId) {
          document.querySelectorAll("[data-job-state]").forEach(function (el) { el.textContent = update.state; });
        }
      });
      // On every (re)connect: subscribe again, then fetch whatever was shipped while the connection was down.
      window.platformLive.whenConnected(function (c) {
        c.invoke("SubscribeJob", jobId).then(catchUp, function () { say("live updates are not available for this job"); });
      });
    }

    load();
  };

  document.querySelectorAll("[data-job-logs]").forEach(function (root) {
    if (!root.dataset.jobLogsReady) {
      root.dataset.jobLogsReady = "1";
      init(root);
    }
  });
})();
