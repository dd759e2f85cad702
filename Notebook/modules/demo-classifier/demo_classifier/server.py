"""The inference API: GET {BASE_PATH}/ answers health and the model's features, POST {BASE_PATH}/predict classifies.

Runs on the standard library's HTTP server, bound to $HOST:$PORT (default 127.0.0.1:8000; in a container HOST is
0.0.0.0) under $BASE_PATH (default "", i.e. the root): the platform's proxy forwards /ide/{id}/... here unchanged. The
model is $MODEL_PATH when that file exists (written by train.py), otherwise one trained at start-up on the bundled CSV.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .model import DEFAULT_DATA, NearestCentroid, read_csv

MAX_BODY = 1024 * 1024


def load_model(path=None):
    path = path if path is not None else os.environ.get("MODEL_PATH", "model.json")
    if path and os.path.isfile(path):
        return NearestCentroid.load(path), path
    features, rows, labels = read_csv(DEFAULT_DATA)
    return NearestCentroid.fit(features, rows, labels), "bundled fruits.csv"


def normalise_base_path(value):
    value = (value or "").strip()
    if not value or value == "/":
        return ""
    return "/" + value.strip("/")


def make_handler(model, source, base_path):
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-classifier/1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

        def _route(self):
            path = self.path.split("?", 1)[0]
            if base_path:
                if path != base_path and not path.startswith(base_path + "/"):
                    return None
                path = path[len(base_path):]
            return path.rstrip("/") or "/"

        def _send(self, status, body):
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server's naming
            route = self._route()
            if route == "/":
                self._send(200, {"status": "ok", "model": source, "features": model.features, "classes": model.classes})
            else:
                self._send(404, {"error": f"no such endpoint: GET {self.path}"})

        def do_POST(self):  # noqa: N802
            if self._route() != "/predict":
                self._send(404, {"error": f"no such endpoint: POST {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length <= 0 or length > MAX_BODY:
                self._send(400 if length <= 0 else 413, {"error": f"send a JSON body of at most {MAX_BODY} bytes"})
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                self._send(400, {"error": f"the body is not JSON: {error}"})
                return
            single = not (isinstance(payload, dict) and "instances" in payload)
            instances = [payload] if single else payload["instances"]
            if not isinstance(instances, list) or not instances:
                self._send(400, {"error": "instances must be a non-empty list"})
                return
            predictions = []
            for index, instance in enumerate(instances):
                try:
                    row = model.row_from(instance)
                except ValueError as error:
                    self._send(400, {"error": f"instance {index}: {error}"})
                    return
                distances = model.distances(row)
                label = min(sorted(distances), key=distances.get)
                predictions.append({"label": label, "distances": {k: round(v, 6) for k, v in distances.items()}})
            self._send(200, predictions[0] if single else {"predictions": predictions})

    return Handler


def create_server(port=None, base_path=None, model_path=None, host=None):
    host = host if host is not None else os.environ.get("HOST", "127.0.0.1")
    port = int(port if port is not None else os.environ.get("PORT", "8000"))
    base = normalise_base_path(base_path if base_path is not None else os.environ.get("BASE_PATH", ""))
    model, source = load_model(model_path)
    return ThreadingHTTPServer((host, port), make_handler(model, source, base))


def main():
    server = create_server()
    host, port = server.server_address[:2]
    print(f"demo-classifier listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
