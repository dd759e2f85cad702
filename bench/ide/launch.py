#!/usr/bin/env python3
"""Launch latency of a Jupyter notebook: the platform (process backend) vs JupyterHub 3.0 (LocalProcessSpawner), each
against a bare start of the same Jupyter on the same machine. Driven by bench/ide/launch.sh, which starts the platform
and signs up; stdlib only (Debian's /usr/bin/python3).

  ours:  POST /api/v1/deployments  -> GET /ide/{id}/api answers 200 through Web's front door
  hub:   POST /hub/api/users/{name}/server (admin token) -> GET /user/{name}/api answers 200 through the hub's proxy
  bare:  exec of `jupyter notebook` (same options, same config) -> its /api answers 200

Overhead = a launch's percentile minus the bare start's median: what the orchestration adds to the unavoidable work.
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

POLL = 0.005  # seconds between readiness probes, the same for all three


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=10):
    """(status, body bytes), or (0, b'') when nothing listens yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = dict(headers or {})
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    except (ConnectionError, OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


def wait_200(port, path, headers, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if request(port, "GET", path, headers=headers, timeout=5)[0] == 200:
            return True
        time.sleep(POLL)
    return False


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(p / 100 * len(v) + 0.5) - 1))]


def cookie_header(jar):
    """The cookies curl wrote (Netscape format; HttpOnly ones carry a '#HttpOnly_' prefix)."""
    pairs = []
    for line in open(jar):
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_"):]
        elif line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 7:
            pairs.append(f"{fields[5]}={fields[6]}")
    return "; ".join(pairs)


def jupyter_password_hash(password):
    salt = secrets.token_hex(6)
    return f"sha256:{salt}:{hashlib.sha256((password + salt).encode()).hexdigest()}"


# --- ours -----------------------------------------------------------------------------------------------------------

class Platform:
    def __init__(self, port, jar):
        self.port = port
        self.headers = {"Cookie": cookie_header(jar)}

    def launch(self, title, timeout=180):
        """Seconds from the POST to /ide/{id}/api answering 200 through the front door; (id, seconds or None)."""
        t0 = time.monotonic()
        status, body = request(self.port, "POST", "/api/v1/deployments",
                               {"module": "development", "service": "jupyter", "title": title, "password": "bench password 9"},
                               self.headers, timeout=60)
        if status != 201:
            raise SystemExit(f"POST /api/v1/deployments answered {status}: {body[:300]!r}")
        deployment = json.loads(body)["id"]
        ok = wait_200(self.port, f"/ide/{deployment}/api", self.headers, timeout)
        return deployment, (time.monotonic() - t0 if ok else None)

    def allow(self, deployments):
        """Raises the (admin) bench user's own limit on running deployments, whose default (10) is below a burst of 20."""
        status, body = request(self.port, "GET", "/api/v1/me", headers=self.headers)
        me = json.loads(body)
        user = me["user"]["id"]
        status, body = request(self.port, "PUT", f"/api/v1/admin/users/{user}/limits",
                               {"maxDeployments": deployments, "maxCpus": float(deployments * 4), "maxGpus": None}, self.headers)
        if status != 200:
            raise SystemExit(f"PUT /api/v1/admin/users/{user}/limits answered {status}: {body[:300]!r}")

    def delete(self, deployment, wait=True, timeout=120):
        request(self.port, "DELETE", f"/api/v1/deployments/{deployment}", headers=self.headers)
        deadline = time.monotonic() + timeout
        while wait and time.monotonic() < deadline:
            if request(self.port, "GET", f"/api/v1/deployments/{deployment}", headers=self.headers)[0] == 404:
                return
            time.sleep(0.05)

    def state(self, deployment):
        status, body = request(self.port, "GET", f"/api/v1/deployments/{deployment}", headers=self.headers)
        return json.loads(body) if status == 200 else {"status": status}


# --- bare -----------------------------------------------------------------------------------------------------------

def bare_start(work, timeout=60):
    """Seconds from exec to /api answering, for the command line the process backend runs (same config file)."""
    root = tempfile.mkdtemp(dir=work, prefix="bare-")
    private = os.path.join(root, ".platform")
    env = {"HOME": os.path.join(private, "home"), "JUPYTER_CONFIG_DIR": os.path.join(private, "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": os.path.join(private, "jupyter-runtime"), "PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    for d in (env["HOME"], env["JUPYTER_CONFIG_DIR"], env["JUPYTER_RUNTIME_DIR"]):
        os.makedirs(d)
    with open(os.path.join(env["JUPYTER_CONFIG_DIR"], "jupyter_notebook_config.py"), "w") as f:
        f.write(f"c.NotebookApp.password = '{jupyter_password_hash('bench password 9')}'\n"
                f"c.NotebookApp.token = '{secrets.token_hex(24)}'\nc.NotebookApp.password_required = True\n")
    port = free_port()
    command = ["jupyter", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
               "--NotebookApp.base_url=/bare/", f"--NotebookApp.notebook_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    t0 = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ok = wait_200(port, "/bare/api", {}, timeout)
    elapsed = time.monotonic() - t0
    os.killpg(process.pid, signal.SIGTERM)
    process.wait()
    shutil.rmtree(root, ignore_errors=True)
    return elapsed if ok else None


# --- JupyterHub -----------------------------------------------------------------------------------------------------

class Hub:
    """JupyterHub 3.0 from Debian: dummy authenticator, SimpleLocalProcessSpawner (LocalProcessSpawner without the
    system-user lookup, so no Unix accounts are needed), configurable-http-proxy started by the hub. Its single-user
    server runs on notebook 6's NotebookApp, the same server the platform and the bare start run."""

    def __init__(self, work):
        self.root = os.path.join(work, "hub")
        os.makedirs(self.root)
        self.port = free_port()
        self.token = secrets.token_hex(32)
        config = f"""
c.JupyterHub.bind_url = 'http://127.0.0.1:{self.port}'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{free_port()}'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'
c.ConfigurableHTTPProxy.auth_token = '{secrets.token_hex(32)}'
c.JupyterHub.db_url = 'sqlite:///{self.root}/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '{self.root}/cookie_secret'
c.JupyterHub.pid_file = '{self.root}/jupyterhub.pid'
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'simple'
c.SimpleLocalProcessSpawner.home_dir_template = '{self.root}/home/{{username}}'
c.Spawner.environment = {{'JUPYTERHUB_SINGLEUSER_APP': 'notebook.notebookapp.NotebookApp'}}
c.Spawner.args = {['--allow-root'] if os.geteuid() == 0 else []!r}
c.JupyterHub.services = [{{'name': 'bench', 'api_token': '{self.token}'}}]
c.JupyterHub.load_roles = [{{'name': 'bench-admin', 'scopes': ['admin:users', 'admin:servers', 'access:servers'], 'services': ['bench']}}]
"""
        with open(os.path.join(self.root, "jupyterhub_config.py"), "w") as f:
            f.write(config)
        self.log = open(os.path.join(self.root, "jupyterhub.log"), "w")
        # Debian's configurable-http-proxy finds its modules in /usr/share/nodejs, which a Node.js not from Debian
        # (NodeSource's) does not search by itself.
        env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
        self.process = subprocess.Popen(["jupyterhub", "-f", os.path.join(self.root, "jupyterhub_config.py")], cwd=self.root, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.headers = {"Authorization": f"token {self.token}"}
        deadline = time.monotonic() + 60
        while request(self.port, "GET", "/hub/api/users", headers=self.headers)[0] != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise SystemExit("JupyterHub did not start:\n" + open(self.log.name).read()[-3000:])
            time.sleep(0.1)

    def launch(self, user, timeout=120):
        status, _ = request(self.port, "POST", f"/hub/api/users/{user}", headers=self.headers)
        if status not in (201, 409):
            raise SystemExit(f"creating hub user {user}: {status}")
        t0 = time.monotonic()
        status, body = request(self.port, "POST", f"/hub/api/users/{user}/server", headers=self.headers, timeout=timeout)
        if status not in (201, 202):
            raise SystemExit(f"POST /hub/api/users/{user}/server answered {status}: {body[:300]!r}")
        ok = wait_200(self.port, f"/user/{user}/api", {}, timeout)
        return time.monotonic() - t0 if ok else None

    def stop_server(self, user, timeout=60):
        request(self.port, "DELETE", f"/hub/api/users/{user}/server", headers=self.headers, timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = request(self.port, "GET", f"/hub/api/users/{user}", headers=self.headers)
            if status == 200 and not json.loads(body).get("servers"):
                return
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


# --- the runs -------------------------------------------------------------------------------------------------------

def row(name, values):
    ms = [v * 1000 for v in values]
    print(f"{name:<46} {pct(ms, 50):9.0f} {pct(ms, 95):9.0f} {min(ms):9.0f} {max(ms):9.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--web-port", type=int, required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--launches", type=int, default=15)
    ap.add_argument("--concurrent", type=int, default=20)
    args = ap.parse_args()
    platform = Platform(args.web_port, args.jar)

    # Warm-up, not counted: the first launch pays for JIT in Web, Api and Workers, the first bare start for a cold disk.
    deployment, _ = platform.launch("warm-up")
    platform.delete(deployment)
    bare_start(args.work)

    ours, bare, hub_times = [], [], []
    hub = Hub(args.work)
    try:
        hub.launch("warmup")
        hub.stop_server("warmup")
        # Interleaved, so a burst of load on the shared machine hits all three alike.
        for i in range(args.launches):
            deployment, seconds = platform.launch(f"bench {i}")
            if seconds is None:
                raise SystemExit(f"launch {i} did not answer: {platform.state(deployment)}")
            ours.append(seconds)
            platform.delete(deployment)
            seconds = bare_start(args.work)
            if seconds is None:
                raise SystemExit("a bare Jupyter did not answer")
            bare.append(seconds)
            seconds = hub.launch(f"user{i}")
            if seconds is None:
                raise SystemExit(f"JupyterHub launch {i} did not answer; its log: {hub.log.name}")
            hub_times.append(seconds)
            hub.stop_server(f"user{i}")
    finally:
        hub.stop()

    b50 = pct(bare, 50)
    print(f"\n{args.launches} sequential launches each (ms)")
    print(f"{'':<46} {'p50':>9} {'p95':>9} {'min':>9} {'max':>9}")
    row("bare jupyter notebook, exec -> /api 200", bare)
    row("ours: POST -> /ide/{id}/api 200 (front door)", ours)
    row("JupyterHub: POST server -> /user/{n}/api 200", hub_times)
    row("ours overhead (minus bare p50)", [v - b50 for v in ours])
    row("JupyterHub overhead (minus bare p50)", [v - b50 for v in hub_times])
    o50, o95 = pct(ours, 50) - b50, pct(ours, 95) - b50
    h50, h95 = pct(hub_times, 50) - b50, pct(hub_times, 95) - b50
    print(f"ratio overhead ours / JupyterHub: p50 {o50 / h50:.2f}, p95 {o95 / h95:.2f}  (goal: <= 0.5, and ours p50 <= 300 ms)")

    # Many at once: every one must come up.
    print(f"\n{args.concurrent} concurrent launches")
    platform.allow(args.concurrent + 1)
    with concurrent.futures.ThreadPoolExecutor(args.concurrent) as pool:
        results = list(pool.map(lambda i: platform.launch(f"burst {i}", timeout=300), range(args.concurrent)))
    failed = [d for d, s in results if s is None]
    times = [s for _, s in results if s is not None]
    if times:
        row("ours, each: POST -> /ide/{id}/api 200", times)
    print(f"succeeded {len(times)} of {args.concurrent}; p95 {pct(times, 95) * 1000:.0f} ms, last {max(times) * 1000:.0f} ms" if times else "none succeeded")
    for d in failed:
        print(f"failed: {platform.state(d)}")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(platform.delete, [d for d, _ in results]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
