#!/usr/bin/env python3
"""Distributed linear regression with parameter servers, in the standard library only.

Run as a Platform job with trainers and parameter servers (``create_cloud_job(..., num_trainer=2, num_ps=1)``):
every replica reads its role and its peers from the environment the platform injects.

- A parameter server (PLATFORM_ROLE=pserver) listens on PLATFORM_PORT and holds its share of the weights (weight i
  lives on server i % number of servers). Trainers pull weights and push gradients as JSON lines; it applies each
  gradient as it comes (asynchronous SGD) and exits once every trainer said it is done.
- A trainer (PLATFORM_ROLE=trainer) makes its own shard of a synthetic data set (y = 3·x1 − 2·x2 + 0.5·x3 + 1, plus
  noise; seeded by its RANK), then for each epoch pulls the weights, computes the mean-squared-error gradient on its
  shard and pushes it. Every trainer logs its loss each epoch to the job's live board (``log_metric``, series
  ``loss/trainer-<rank>``) and trainer 0 groups them in one chart (``draw_board``); trainer 0 also reports progress to
  the platform and writes output/model.json at the end.

Options (``options={"epochs": "50", "lr": "0.2"}``) arrive as PLATFORM_OPTION_EPOCHS and PLATFORM_OPTION_LR.
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import threading
import time
from typing import Dict, List, Tuple

TRUE_WEIGHTS = [3.0, -2.0, 0.5, 1.0]  # the last one is the bias
FEATURES = len(TRUE_WEIGHTS)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def endpoints(name: str) -> List[Tuple[str, int]]:
    found = []
    for item in filter(None, env(name).split(",")):
        host, _, port = item.rpartition(":")
        found.append((host, int(port)))
    return found


def log(message: str) -> None:
    print(f"[{env('PLATFORM_REPLICA', 'local')}] {message}", flush=True)


# ---- parameter server ------------------------------------------------------------------------------------------

def serve() -> int:
    servers = endpoints("PLATFORM_PSERVER_ENDPOINTS")
    index = int(env("PLATFORM_PSERVER_INDEX", "0"))
    trainers = len(endpoints("PLATFORM_TRAINER_ENDPOINTS")) or 1
    lr = float(env("PLATFORM_OPTION_LR", "0.2"))
    mine = [i for i in range(FEATURES) if i % max(1, len(servers)) == index]
    weights: Dict[int, float] = {i: 0.0 for i in mine}
    lock = threading.Lock()
    done = set()
    finished = threading.Event()

    def handle(connection: socket.socket) -> None:
        with connection, connection.makefile("rw", encoding="utf-8") as stream:
            for line in stream:
                request = json.loads(line)
                with lock:
                    if request["op"] == "pull":
                        answer = {"weights": {str(i): w for i, w in weights.items()}}
                    elif request["op"] == "push":
                        for key, gradient in request["gradient"].items():
                            weights[int(key)] -= lr * gradient / trainers
                        answer = {"ok": True}
                    elif request["op"] == "done":
                        done.add(request["rank"])
                        answer = {"ok": True}
                        if len(done) >= trainers:
                            finished.set()
                    else:
                        answer = {"error": f"unknown op {request['op']!r}"}
                stream.write(json.dumps(answer) + "\n")
                stream.flush()

    port = int(env("PLATFORM_PORT", "0"))
    listener = socket.create_server(("", port))
    listener.settimeout(0.5)
    log(f"parameter server {index} holds weights {mine}, listening on port {listener.getsockname()[1]}, waiting for {trainers} trainers")
    while not finished.is_set():
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(connection,), daemon=True).start()
    log(f"every trainer is done; final weights {', '.join(f'w{i}={w:.3f}' for i, w in sorted(weights.items()))}")
    return 0


# ---- trainer ---------------------------------------------------------------------------------------------------

class Server:
    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.socket = socket.create_connection((host, port), timeout=30)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.stream = self.socket.makefile("rw", encoding="utf-8")

    def call(self, **request: object) -> dict:
        self.stream.write(json.dumps(request) + "\n")
        self.stream.flush()
        return json.loads(self.stream.readline())


def shard(rank: int, size: int = 400) -> List[Tuple[List[float], float]]:
    rng = random.Random(1000 + rank)
    rows = []
    for _ in range(size):
        x = [rng.uniform(-1, 1) for _ in range(FEATURES - 1)] + [1.0]
        y = sum(w * v for w, v in zip(TRUE_WEIGHTS, x)) + rng.gauss(0, 0.05)
        rows.append((x, y))
    return rows


_progress_problem: List[str] = []


def progress(fraction: float, message: str) -> None:
    if _progress_problem:
        return
    try:
        import platformsdk  # present inside the platform's workloads; training works without it
        platformsdk.report_progress(fraction, message)
    except Exception as exc:  # noqa: BLE001 - progress is a nicety, never a reason to fail the training
        _progress_problem.append(str(exc))
        log(f"(progress is not reported: {exc})")


_metrics_problem: List[str] = []


def metric(name: str, value: float, step: int) -> None:
    """Log one point to the job's live board; buffered and sent in the background, so it never slows training."""
    if _metrics_problem:
        return
    try:
        import platformsdk
        platformsdk.log_metric(name, value, step=step)
    except Exception as exc:  # noqa: BLE001 - outside the platform (no key configured) the training still runs
        _metrics_problem.append(str(exc))
        log(f"(metrics are not logged: {exc})")


def board(*names: str, title: str) -> None:
    if _metrics_problem:
        return
    try:
        import platformsdk
        platformsdk.draw_board(*names, title=title)
    except Exception as exc:  # noqa: BLE001 - a nicety, like progress
        _metrics_problem.append(str(exc))
        log(f"(metrics are not logged: {exc})")


def train() -> int:
    rank = int(env("RANK", "0"))
    epochs = int(env("PLATFORM_OPTION_EPOCHS", "50"))
    servers = [Server(host, port) for host, port in endpoints("PLATFORM_PSERVER_ENDPOINTS")]
    if not servers:
        log("no parameter servers: PLATFORM_PSERVER_ENDPOINTS is empty (submit with num_ps >= 1)")
        return 2
    data = shard(rank)
    log(f"trainer {rank} of {len(endpoints('PLATFORM_TRAINER_ENDPOINTS')) or 1}: {len(data)} rows, "
        f"{epochs} epochs, {len(servers)} parameter server(s)")
    loss = float("nan")
    trainers = len(endpoints("PLATFORM_TRAINER_ENDPOINTS")) or 1
    if rank == 0:
        board(*[f"loss/trainer-{r}" for r in range(trainers)], title="training loss (MSE)")
    for epoch in range(1, epochs + 1):
        weights = [0.0] * FEATURES
        for server in servers:
            for key, value in server.call(op="pull")["weights"].items():
                weights[int(key)] = value
        gradient = [0.0] * FEATURES
        loss = 0.0
        for x, y in data:
            error = sum(w * v for w, v in zip(weights, x)) - y
            loss += error * error
            for i in range(FEATURES):
                gradient[i] += 2 * error * x[i] / len(data)
        loss /= len(data)
        metric(f"loss/trainer-{rank}", loss, step=epoch)
        for index, server in enumerate(servers):
            server.call(op="push", gradient={str(i): gradient[i] for i in range(FEATURES) if i % len(servers) == index})
        if epoch % 5 == 0 or epoch == epochs:
            log(f"epoch {epoch}: loss {loss:.4f}")
            if rank == 0:
                progress(epoch / epochs, f"epoch {epoch} of {epochs}, loss {loss:.4f}")
    final = [0.0] * FEATURES
    for server in servers:
        for key, value in server.call(op="pull")["weights"].items():
            final[int(key)] = value
    for server in servers:
        server.call(op="done", rank=rank)
    if rank == 0:
        output = env("PLATFORM_OUTPUT_DIR", "output")
        os.makedirs(output, exist_ok=True)
        with open(os.path.join(output, "model.json"), "w", encoding="utf-8") as out:
            json.dump({"weights": final, "loss": loss, "epochs": epochs}, out, indent=2)
        log(f"wrote {os.path.join(output, 'model.json')}: weights {[round(w, 3) for w in final]}, loss {loss:.4f}")
    return 0


if __name__ == "__main__":
    role = env("PLATFORM_ROLE", "trainer")
    sys.exit(serve() if role == "pserver" else train())
