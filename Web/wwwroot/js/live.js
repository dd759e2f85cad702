// One SignalR connection per page for signed-in users (/hubs/live through the front door, with the session cookie).
// It reconnects by itself, forever, with a growing pause; scripts that keep something live register with
// platformLive.whenConnected(fn): fn runs on every (re)connect and when the server says "resync", so a page catches up
// on whatever it missed while the connection was down. <html data-live> says connecting | connected | reconnecting.
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
  connection.onclose(function () { window.setTimeout(function () { start(0); }, retry(3)); });
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

  window.platformLive = {
    connection: connection,
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
