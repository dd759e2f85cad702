// One SignalR connection per page for signed-in users (/hubs/live through the front door, with the session cookie).
// It reconnects by itself, forever, with a growing pause; scripts that keep something live register with
// platformLive.whenConnected(fn): fn runs on every (re)connect and when the server says "resync", so a page catches up
// on whatever it missed while the connection was down. <html data-live> says connecting | connected | reconnecting | disconnected.
(function () {
  "use strict";
  if (!window.signalR || !document.body.hasAttribute("data-live")) {
    return;
  }

  const root = document.documentElement;
  const hooks = [];
  const retry = function (attempt) {
    return Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6))) + Math.floor(Math.random() * 500);
  };
  const connection = new window.signalR.HubConnectionBuilder()
    .withUrl("/hubs/live")
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: function (context) { return retry(context.previousRetryCount); } })
    .configureLogging(window.signalR.LogLevel.Warning)
    .build();

  const caughtUp = function () {
    hooks.forEach(function (hook) {
      try {
        hook(connection);
      } catch (error) {
        console.error(error);
      }
    });
  };

  const start = function (attempt) {
    root.dataset.live = "connecting";
    connection.start().then(function () {
      root.dataset.live = "connected";
      caughtUp();
    }, function () {
      window.setTimeout(function () { start(attempt + 1); }, retry(attempt));
    });
  };

  connection.onreconnecting(function () { root.dataset.live = "reconnecting"; });
  connection.onreconnected(function () {
    root.dataset.live = "connected";
    caughtUp();
  });
  // Only when automatic reconnection gives up (it does not, with the policy above) or the server closes for good.
  connection.onclose(function () {
    root.dataset.live = "disconnected";
    window.setTimeout(function () { start(0); }, retry(3));
  });
  connection.on("resync", caughtUp);

  // The bell: any element marked data-notification-count shows the unread count (the endpoint may not exist yet).
  const refreshNotifications = function () {
    const targets = document.querySelectorAll("[data-notification-count]");
    if (targets.length === 0) {
      return;
    }
    fetch("/api/v1/notifications/unread-count", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || typeof body.count !== "number") {
          return;
        }
        targets.forEach(function (target) {
          target.textContent = String(body.count);
          target.dataset.count = String(body.count);
        });
        document.dispatchEvent(new CustomEvent("platform:notification-count", { detail: { count: body.count } }));
      })
      .catch(function () { /* offline or not there yet: the next notification tries again */ });
  };
  connection.on("notification", refreshNotifications);
  hooks.push(refreshNotifications);

  // Training boards: one entry per subscribed run. Points are taken once each, in step order per series: a point at or
  // below the last step seen is dropped (the catch-up and the live messages overlap by design). While SubscribeRun is
  // in flight, live "Points" of that run are held and taken after its catch-up, so nothing between them is lost.
  const runs = new Map();
  const key = function (runId) { return String(runId).toLowerCase(); };
  const takeNew = function (state, series) {
    const fresh = {};
    let any = false;
    Object.keys(series || {}).forEach(function (name) {
      const last = Object.prototype.hasOwnProperty.call(state.lastSteps, name) ? state.lastSteps[name] : -1;
      let top = last;
      const rows = series[name].filter(function (row) {
        if (row[0] > top) {
          top = row[0];
          return true;
        }
        return false;
      });
      if (rows.length > 0) {
        state.lastSteps[name] = top;
        fresh[name] = rows;
        any = true;
      }
    });
    return any ? fresh : null;
  };
  const deliver = function (state, series, info) {
    const fresh = takeNew(state, series);
    if (fresh) {
      try {
        state.onPoints(fresh, info);
      } catch (error) {
        console.error(error);
      }
    }
  };
  const subscribe = function (state) {
    if (state.closed) {
      return;
    }
    state.subscribing = true;
    state.held = [];
    const sent = Object.assign({}, state.lastSteps);
    connection.invoke("SubscribeRun", state.runId, sent).then(function (catchUp) {
      state.subscribing = false;
      deliver(state, catchUp.series, { catchUp: true, complete: catchUp.complete });
      const held = state.held;
      state.held = [];
      held.forEach(function (series) { deliver(state, series, { catchUp: false }); });
      if (state.onSubscribed) {
        state.onSubscribed(catchUp);
      }
    }, function (error) {
      state.subscribing = false;
      state.held = [];
      if (state.onError) {
        state.onError(error);
      } else {
        console.error(error);
      }
    });
  };
  connection.on("Points", function (message) {
    const state = runs.get(key(message.runId));
    if (!state) {
      return;
    }
    if (state.subscribing) {
      state.held.push(message.series);
      return;
    }
    deliver(state, message.series, { catchUp: false });
  });
  connection.on("RunUpdated", function (message) {
    const state = runs.get(key(message.runId));
    if (state && state.onRunUpdated) {
      state.onRunUpdated(message);
    }
  });
  hooks.push(function () {
    runs.forEach(subscribe);
  });

  window.platformLive = {
    connection: connection,
    /**
     * Follows a run's metrics: onPoints({ name: [[step, atMs, value], ...] }, { catchUp, complete }) with only points newer
     * than the last step seen per series (starting from lastSteps, e.g. what the board loaded through REST), first the
     * catch-up, then live; after every reconnect or resync it subscribes again with the last steps seen. A catch-up with
     * complete === false means more points exist than it carried: reload through /api/v1/runs/{id}/points.
     * onRunUpdated({ runId, state, pointCount, dropped, graphs, deleted }). Options: { onError, onSubscribed }.
     * Returns { lastSteps(), unsubscribe() }.
     */
    subscribeRun: function (runId, lastSteps, onPoints, onRunUpdated, options) {
      const state = {
        runId: runId,
        lastSteps: Object.assign({}, lastSteps || {}),
        onPoints: onPoints,
        onRunUpdated: onRunUpdated,
        onError: options && options.onError,
        onSubscribed: options && options.onSubscribed,
        subscribing: false,
        held: [],
        closed: false,
      };
      runs.set(key(runId), state);
      if (connection.state === window.signalR.HubConnectionState.Connected) {
        subscribe(state);
      }
      return {
        lastSteps: function () { return Object.assign({}, state.lastSteps); },
        unsubscribe: function () {
          state.closed = true;
          runs.delete(key(runId));
          if (connection.state === window.signalR.HubConnectionState.Connected) {
            connection.invoke("UnsubscribeRun", runId).catch(function () { /* gone with the connection */ });
          }
        },
      };
    },
    /** Runs fn(connection) now if connected, and after every reconnect or resync. */
    whenConnected: function (fn) {
      hooks.push(fn);
      if (connection.state === window.signalR.HubConnectionState.Connected) {
        fn(connection);
      }
    },
  };

  start(0);
})();
