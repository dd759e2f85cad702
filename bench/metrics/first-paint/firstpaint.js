// Drives headless Chromium over the DevTools protocol (the `ws` package from Web/node_modules): opens URL in a fresh tab
// with the session cookie and prints the milliseconds from navigation start to the board's first chart paint and to its
// first interactive chart (board.js sets <html data-board-first-paint> one animation frame after the first chart is on
// screen, its canvas preview or plotly's, and data-board-interactive one frame after plotly's first draw), then the
// points plotted and the page's marks.
//   node firstpaint.js URL COOKIE_JAR TIMEOUT_MS
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const WebSocket = require(path.resolve(__dirname, "../../../Web/node_modules/ws"));

const [url, jar, timeoutText] = process.argv.slice(2);
const timeout = Number(timeoutText || 60000);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "firstpaint-"));
const chromium = spawn(process.env.CHROMIUM || "/usr/bin/chromium", [
  "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
  "--no-first-run", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1400,1000",
  "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "about:blank"
], { stdio: ["ignore", "ignore", "pipe"] });

const cookies = fs.readFileSync(jar, "utf8").split("\n")
  .map(function (line) { return line.replace(/^#HttpOnly_/, ""); })
  .filter(function (line) { return line && !line.startsWith("#"); })
  .map(function (line) { const f = line.split("\t"); return { name: f[5], value: f[6] }; });

const finish = function (code, text) {
  if (text) {
    console.log(text);
  }
  chromium.kill("SIGKILL");
  chromium.on("exit", function () {
    try {
      fs.rmSync(profile, { recursive: true, force: true });
    } catch (e) {
      // a profile file still being written: left to the temp folder's cleaner
    }
    process.exit(code);
  });
};
setTimeout(function () { finish(2, "timeout"); }, timeout + 20000);

let buffer = "";
chromium.stderr.on("data", function (chunk) {
  buffer += chunk;
  const m = buffer.match(/DevTools listening on (ws:\/\/\S+)/);
  if (m && !chromium.connected) {
    chromium.connected = true;
    run(m[1]).catch(function (e) { finish(1, "error: " + e.message); });
  }
});

async function run(endpoint) {
  const ws = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise(function (resolve) { ws.once("open", resolve); });
  let next = 0;
  const waiting = new Map();
  ws.on("message", function (data) {
    const message = JSON.parse(data);
    if (message.id && waiting.has(message.id)) {
      const w = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) {
        w.reject(new Error(message.error.message));
      } else {
        w.resolve(message.result);
      }
    }
  });
  const send = function (method, params, sessionId) {
    const id = ++next;
    ws.send(JSON.stringify({ id: id, method: method, params: params || {}, sessionId: sessionId }));
    return new Promise(function (resolve, reject) { waiting.set(id, { resolve: resolve, reject: reject }); });
  };
  // FP_WARM_BROWSER=1: a first visit in a browser that is already running (as a user's is): another page of the
  // platform is opened first in the browser's default context (so the browser process, its GPU process and fonts are
  // up), then the board opens in a new browser context: empty HTTP cache, no code cache, no cookies but the session's.
  let browserContextId;
  if (process.env.FP_WARM_BROWSER === "1") {
    const warm = await send("Target.createTarget", { url: new URL("/Account/Login", url).href });
    await new Promise(function (resolve) { setTimeout(resolve, 3000); });
    await send("Target.closeTarget", { targetId: warm.targetId });
    browserContextId = (await send("Target.createBrowserContext", { disposeOnDetach: true })).browserContextId;
  }
  const { targetId } = await send("Target.createTarget", { url: "about:blank", browserContextId: browserContextId });
  const { sessionId } = await send("Target.attachToTarget", { targetId: targetId, flatten: true });
  await send("Network.enable", {}, sessionId);
  for (const c of cookies) {
    await send("Network.setCookie", { name: c.name, value: c.value, url: url }, sessionId);
  }
  // FP_VISITS=n: the same page n times in the one profile (a returning visitor: plotly.js from the HTTP cache with V8's
  // code cache); the last visit is reported, the earlier ones listed.
  const visits = Number(process.env.FP_VISITS || 1);
  const earlier = [];
  for (let visit = 1; visit <= visits; visit++) {
    if (visit > 1) {
      await send("Page.navigate", { url: "about:blank" }, sessionId);
      for (;;) {
        const { result } = await send("Runtime.evaluate", { expression: "location.href", returnByValue: true }, sessionId);
        if (result.value === "about:blank") {
          break;
        }
        await new Promise(function (resolve) { setTimeout(resolve, 10); });
      }
    }
    await send("Page.navigate", { url: url }, sessionId);
    const started = Date.now();
    for (;;) {
      const { result } = await send("Runtime.evaluate", {
        expression: "JSON.stringify({ paint: document.documentElement.dataset.boardFirstPaint || null, interactive: document.documentElement.dataset.boardInteractive || null, fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null, points: (document.querySelector('[data-board]') || { dataset: {} }).dataset.boardPoints || null, status: (document.querySelector('[data-board-status]') || {}).textContent || '' })",
        returnByValue: true
      }, sessionId);
      const state = JSON.parse(result.value || "{}");
      if (state.paint && state.interactive) {
        if (visit < visits) {
          earlier.push(state.paint);
          break;
        }
        if (process.env.FP_EVAL) { // debugging: evaluate an expression on the painted page and print it
          await new Promise(function (resolve) { setTimeout(resolve, Number(process.env.FP_WAIT || 0)); });
          const extra = await send("Runtime.evaluate", { expression: process.env.FP_EVAL, returnByValue: true, awaitPromise: true }, sessionId);
          console.error(JSON.stringify(extra.result.value));
        }
        const marks = await send("Runtime.evaluate", {
          expression: "JSON.stringify(performance.getEntriesByType('mark').map(function (m) { return m.name + '=' + Math.round(m.startTime); }).concat(performance.getEntriesByType('resource').filter(function (r) { return /points|export|plotly/.test(r.name); }).map(function (r) { return r.name.replace(/^.*\\//, '').slice(0, 24) + ' ' + Math.round(r.startTime) + '-' + Math.round(r.responseEnd) + ' ' + Math.round((r.encodedBodySize || 0) / 1024) + ' KiB'; })))",
          returnByValue: true
        }, sessionId);
        // A browser may hold a new page's first frames (while the parser still runs scripts): the chart is on screen at
        // the later of board.js's mark and the page's first contentful paint, where Chromium reports one.
        const fcp = state.fcp ? Math.round(state.fcp) : 0;
        const paint = Math.max(Number(state.paint), fcp), interactive = Math.max(Number(state.interactive), fcp);
        finish(0, paint + " " + interactive + " " + (state.points || "?") + " fcp=" + (fcp || "n/a") + ", " + (earlier.length ? "earlier visits " + earlier.join("/") + " ms, " : "") + JSON.parse(marks.result.value).join(", "));
        return;
      }
      if (Date.now() - started > timeout) {
        finish(2, "timeout (" + state.status + ")");
        return;
      }
      await new Promise(function (resolve) { setTimeout(resolve, 10); });
    }
  }
}
