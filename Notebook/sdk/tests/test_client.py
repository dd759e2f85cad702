"""The HTTP client against a real local server: headers, paths, bodies, redirects, timeouts."""

import json
import os
import re
import sys
import threading
import time
import unittest

try:
    from . import support
except ImportError:  # started with tests/ as the top-level directory
    import support

import platformsdk
from platformsdk import Client, PlatformConnectionError


class WhoamiTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()

    def test_whoami_returns_the_parsed_answer(self) -> None:
        me = Client(self.fake.url, support.TEST_KEY).whoami()
        self.assertEqual(me, support.ME)
        self.assertIs(me["user"]["isPlatformAdmin"], True)
        self.assertEqual([a["role"] for a in me["accounts"]], ["master", "viewer"])

    def test_whoami_sends_bearer_accept_and_user_agent(self) -> None:
        Client(self.fake.url + "/", support.TEST_KEY).whoami()
        self.assertEqual(len(self.fake.seen), 1)
        seen = self.fake.seen[0]
        self.assertEqual((seen.method, seen.path), ("GET", "/api/v1/me"))
        self.assertEqual(seen.headers["Authorization"], f"Bearer {support.TEST_KEY}")
        self.assertEqual(seen.headers["Accept"], "application/json")
        python = "{}.{}.{}".format(*sys.version_info[:3])
        self.assertEqual(seen.headers["User-Agent"], f"platformsdk/{platformsdk.__version__} python/{python}")
        self.assertRegex(platformsdk.__version__, r"^\d+\.\d+\.\d+")
        self.assertEqual(seen.body, b"")
        self.assertNotIn("Content-Type", seen.headers)

    def test_module_level_whoami_uses_environment(self) -> None:
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)
        self.assertEqual(platformsdk.whoami()["user"]["email"], "ada@example.org")

    def test_module_level_whoami_uses_config_file(self) -> None:
        self.write_config({"api_url": self.fake.url, "api_key": support.TEST_KEY})
        self.assertEqual(platformsdk.whoami()["currentAccountId"], "acc-research")
        self.assertEqual(self.fake.seen[0].headers["Authorization"], f"Bearer {support.TEST_KEY}")

    def test_whoami_without_access_key_in_answer(self) -> None:
        answer = dict(support.ME, accessKey=None, currentAccountId=None)
        self.fake.routes[("GET", "/api/v1/me")] = support.Reply(body=answer)
        me = Client(self.fake.url, support.TEST_KEY).whoami()
        self.assertIsNone(me["accessKey"])
        self.assertIsNone(me["currentAccountId"])

    def test_whoami_rejects_a_non_object_answer(self) -> None:
        self.fake.routes[("GET", "/api/v1/me")] = support.Reply(body=[1, 2])
        with self.assertRaisesRegex(TypeError, "expected a JSON object .*/api/v1/me, got list"):
            Client(self.fake.url, support.TEST_KEY).whoami()


class RequestTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.client = Client(self.fake.url, support.TEST_KEY)

    def test_json_body_and_query_parameters(self) -> None:
        self.fake.routes[("POST", "/api/v1/jobs")] = support.Reply(status=201, body={"id": "job-7"})
        result = self.client.request(
            "post", "/jobs", json={"name": "train", "replicas": 2},
            params={"dryRun": True, "tag": ["a", "b c"], "skip": None, "limit": 5},
        )
        self.assertEqual(result, {"id": "job-7"})
        seen = self.fake.seen[0]
        self.assertEqual(seen.method, "POST")
        self.assertEqual(seen.path, "/api/v1/jobs?dryRun=true&tag=a&tag=b+c&limit=5")
        self.assertEqual(seen.headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(seen.body), {"name": "train", "replicas": 2})

    def test_paths_with_or_without_prefix_and_slash(self) -> None:
        self.assertEqual(self.client.url_for("me"), self.fake.url + "/api/v1/me")
        self.assertEqual(self.client.url_for("/me"), self.fake.url + "/api/v1/me")
        self.assertEqual(self.client.url_for("/api/v1/me"), self.fake.url + "/api/v1/me")
        self.assertEqual(self.client.url_for("/api/v1x"), self.fake.url + "/api/v1/api/v1x")

    def test_base_url_with_path_prefix(self) -> None:
        self.fake.routes[("GET", "/platform/api/v1/me")] = support.Reply(body={"under": "prefix"})
        client = Client(self.fake.url + "/platform/", support.TEST_KEY)
        self.assertEqual(client.whoami(), {"under": "prefix"})
        self.assertEqual(self.fake.seen[0].path, "/platform/api/v1/me")

    def test_no_content_gives_none(self) -> None:
        self.fake.routes[("DELETE", "/api/v1/keys/key-1")] = support.Reply(status=204)
        self.assertIsNone(self.client.request("DELETE", "/keys/key-1"))

    def test_text_answer_gives_text(self) -> None:
        self.fake.routes[("GET", "/api/v1/logs")] = support.Reply(body="epoch 1\n", content_type="text/plain")
        self.assertEqual(self.client.request("GET", "/logs"), "epoch 1\n")

    def test_redirect_on_same_host_keeps_the_key(self) -> None:
        self.fake.routes[("GET", "/api/v1/old")] = support.Reply(status=307, headers={"Location": "/api/v1/me"})
        self.assertEqual(self.client.request("GET", "/old"), support.ME)
        self.assertEqual([s.path for s in self.fake.seen], ["/api/v1/old", "/api/v1/me"])
        self.assertEqual(self.fake.seen[1].headers["Authorization"], f"Bearer {support.TEST_KEY}")

    def test_redirect_to_another_host_drops_the_key(self) -> None:
        # 127.0.0.1 and localhost reach the same server but are different hosts to the client.
        port = self.fake.server.server_address[1]
        target = f"http://localhost:{port}/api/v1/me"
        self.fake.routes[("GET", "/api/v1/away")] = support.Reply(status=302, headers={"Location": target})
        with self.assertRaises(platformsdk.AuthenticationError):
            self.client.request("GET", "/away")
        self.assertEqual(len(self.fake.seen), 2)
        self.assertNotIn("Authorization", self.fake.seen[1].headers)


class TimeoutTests(support.IsolatedTestCase):
    def test_slow_answer_times_out_with_the_url(self) -> None:
        fake = self.start_platform()
        release = threading.Event()
        self.addCleanup(release.set)

        def slow(_seen: support.Seen) -> support.Reply:
            release.wait(5)
            return support.Reply(body={})

        fake.routes[("GET", "/api/v1/slow")] = slow
        client = Client(fake.url, support.TEST_KEY, timeout=0.3)
        started = time.monotonic()
        with self.assertRaises(PlatformConnectionError) as caught:
            client.request("GET", "/slow")
        self.assertLess(time.monotonic() - started, 3)
        self.assertIn(f"could not reach the platform at {fake.url}/api/v1/slow", str(caught.exception))
        self.assertIn("timed out", str(caught.exception))
        self.assertEqual(client.timeout, 0.3)
        self.assertEqual(Client(fake.url, support.TEST_KEY).timeout, 30.0)


if __name__ == "__main__":
    unittest.main()
