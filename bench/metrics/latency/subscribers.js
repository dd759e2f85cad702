// The boards of the latency bench: N SignalR connections (Microsoft's JavaScript client under Node, WebSockets, an access
// key), spread over the runs, each subscribed to one. For every live point: arrival (Date.now()) minus the SDK's `at`.
// Writes WORK/subscribed when all are in; stops DRAIN ms after WORK/done appears; prints the figures.
//   node subscribers.js WEB KEY WORK SUBSCRIBERS POINTS_PER_RUN
"use strict";
const fs = require("fs");
const path = require("path");
const signalR = require(path.resolve(__dirname, "../../../Web/node_modules/@microsoft/signalr"));
const [web, key, work, count, perRun] = [process.argv[2], process.argv[3], process.argv[4], +process.argv[5], +process.argv[6]];
const runs = fs.readdirSync(work).filter((f) => /^run-\d+$/.test(f)).sort((a, b) => +a.slice(4) - +b.slice(4))
  .map((f) => fs.readFileSync(path.join(work, f), "utf8").trim());
let latencies = new Float64Array(1 << 20);
let arrivals = new Float64Array(1 << 20);
let n = 0;
let go = 0;
const record = (ms, now) => {
  if (n === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
    const later = new Float64Array(arrivals.length * 2);
    later.set(arrivals);
    arrivals = later;
  }
  arrivals[n] = now;
  latencies[n++] = ms;
};
const percentiles = (values) => {
  const sorted = Float64Array.from(values).sort();
  return (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function board(j) {
  const runId = runs[j % runs.length];
  const state = { runId, last: 0, received: 0, duplicates: 0, gaps: 0, outOfOrder: 0 };
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(web + "/hubs/live", { accessTokenFactory: () => key, transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  connection.serverTimeoutInMilliseconds = 120000;
  const take = (series, live) => {
    const now = Date.now();
    for (const row of series.loss || []) {
      const step = row[0];
      if (step <= state.last) {
        state.duplicates++;
        continue;
      }
      if (step !== state.last + 1) {
        state.gaps += step - state.last - 1;
      }
      state.last = step;
      state.received++;
      if (live) {
        record(now - row[1], now);
      }
    }
  };
  let subscribing = true;
  const held = [];
  connection.on("Points", (m) => (subscribing ? held.push(m.series) : take(m.series, true)));
  connection.on("RunUpdated", () => {});
  connection.onclose((e) => e && console.error(`board ${j} closed: ${e}`));
  await connection.start();
  const catchUp = await connection.invoke("SubscribeRun", runId, { loss: 0 });
  take(catchUp.series, false);
  subscribing = false;
  held.forEach((s) => take(s, true));
  state.connection = connection;
  return state;
}

(async () => {
  const boards = [];
  for (let j = 0; j < count; j++) {
    boards.push(await board(j));
  }
  fs.writeFileSync(path.join(work, "subscribed"), "");
  while (!fs.existsSync(path.join(work, "go"))) {
    await new Promise((r) => setTimeout(r, 5));
  }
  go = Date.now();
  while (!fs.existsSync(path.join(work, "done"))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // Everything was accepted (the producers flushed); whatever is still on its way gets 5 s.
  const until = Date.now() + 5000;
  while (Date.now() < until && boards.some((b) => b.last < perRun)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const all = latencies.subarray(0, n);
  const pick = percentiles(all);
  const max = all.reduce((m, v) => Math.max(m, v), 0);
  const lost = boards.reduce((s, b) => s + Math.max(0, perRun - b.received), 0);
  const expected = boards.length * perRun;
  console.log(`platform_boards ${boards.length} runs ${runs.length} deliveries ${n} of ${expected}`);
  console.log(`platform_log_metric_to_client_p50_ms ${pick(0.5).toFixed(1)}`);
  console.log(`platform_log_metric_to_client_p99_ms ${pick(0.99).toFixed(1)}`);
  console.log(`platform_log_metric_to_client_max_ms ${max.toFixed(1)}`);
  // The same after the first WARMUP_S seconds (the platform starts cold: JIT tiers, pools and caches fill), and p99
  // per 5 s of the run, which shows where the tail lies.
  const warmup = +(process.env.WARMUP_S || 5) * 1000;
  const steady = all.filter((_, i) => arrivals[i] - go >= warmup);
  if (steady.length > 0) {
    const p = percentiles(steady);
    console.log(`platform_steady_after_${warmup / 1000}s_p50_ms ${p(0.5).toFixed(1)} p99_ms ${p(0.99).toFixed(1)} deliveries ${steady.length}`);
  }
  const buckets = [];
  for (let from = 0; ; from += 5000) {
    const part = all.filter((_, i) => arrivals[i] - go >= from && arrivals[i] - go < from + 5000);
    if (part.length === 0) {
      break;
    }
    buckets.push(`${from / 1000}s:${percentiles(part)(0.99).toFixed(0)}`);
  }
  console.log(`platform_p99_ms_per_5s ${buckets.join(" ")}`);
  console.log(`platform_points_lost ${lost} gaps ${boards.reduce((s, b) => s + b.gaps, 0)} duplicates ${boards.reduce((s, b) => s + b.duplicates, 0)}`);
  await Promise.all(boards.map((b) => b.connection.stop()));
  process.exit(lost === 0 ? 0 : 2);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
