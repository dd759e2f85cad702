import json
import os
import sys
import threading
import unittest
import urllib.error
import urllib.request

MODULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, MODULE_DIR)

from demo_classifier.server import create_server, normalise_base_path  # noqa: E402


class ServerTests(unittest.TestCase):
    base_path = "/ide/0123/"

    @classmethod
    def setUpClass(cls):
        # Port 0: the OS picks a free one; no model file, so the bundled CSV is used.
        cls.server = create_server(port=0, base_path=cls.base_path, model_path="")
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.url = "http://127.0.0.1:%d/ide/0123" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def request(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def test_health_lists_features_and_classes(self):
        status, body = self.request("GET", "/")
        self.assertEqual(200, status)
        self.assertEqual("ok", body["status"])
        self.assertEqual(["weight_g", "diameter_cm", "redness"], body["features"])
        self.assertEqual(["apple", "lemon", "orange"], body["classes"])

    def test_predict_one_instance(self):
        status, body = self.request("POST", "/predict", {"weight_g": 92, "diameter_cm": 6.1, "redness": 0.15})
        self.assertEqual(200, status)
        self.assertEqual("lemon", body["label"])
        self.assertEqual({"apple", "lemon", "orange"}, set(body["distances"]))

    def test_predict_several_instances(self):
        status, body = self.request("POST", "/predict", {"instances": [[150, 7.5, 0.8], [182, 8.6, 0.5]]})
        self.assertEqual(200, status)
        self.assertEqual(["apple", "orange"], [p["label"] for p in body["predictions"]])

    def test_bad_input_is_a_400_with_a_reason(self):
        status, body = self.request("POST", "/predict", {"weight_g": 92})
        self.assertEqual(400, status)
        self.assertIn("missing features", body["error"])
        status, body = self.request("POST", "/predict", raw=b"{not json")
        self.assertEqual(400, status)
        self.assertIn("not JSON", body["error"])

    def test_paths_outside_the_base_path_are_404(self):
        port = self.server.server_address[1]
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen("http://127.0.0.1:%d/predict" % port, timeout=10)
        self.assertEqual(404, caught.exception.code)

    def test_base_path_is_normalised(self):
        self.assertEqual("", normalise_base_path(None))
        self.assertEqual("", normalise_base_path("/"))
        self.assertEqual("/a/b", normalise_base_path("a/b/"))


if __name__ == "__main__":
    unittest.main()
