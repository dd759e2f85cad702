"""The SDK inside a deployment, and ``client.deployments`` / ``plat deployments``, against the real Api."""

from __future__ import annotations

import io
import os
import unittest
from typing import Tuple
from unittest import mock

import platformsdk
from platformsdk import cli


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest(f"{name} is not set: run these through tests/Notebook.Tests (SdkAgainstApiTests)")
    return value


def plat(*argv: str, key: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--api-key", key, *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


class InsideADeployment(unittest.TestCase):
    def test_client_needs_nothing_but_the_workloads_environment(self) -> None:
        self.assertFalse(os.path.exists(platformsdk.default_config_path()), "no config file may exist for this test")
        client = platformsdk.Client()
        me = client.whoami()
        self.assertEqual(_env("PLATFORM_TEST_OWNER_ID"), me["user"]["id"])
        self.assertEqual(_env("PLATFORM_DEPLOYMENT_ID"), me["deploymentId"])
        current = client.deployments.current()
        self.assertEqual(_env("PLATFORM_DEPLOYMENT_ID"), current["id"])
        self.assertEqual("running", current["observed"])
        # The module-level helper reads the same environment.
        self.assertEqual(me["user"]["id"], platformsdk.whoami()["user"]["id"])

    def test_whoami_on_the_command_line_names_the_deployment(self) -> None:
        out, err = io.StringIO(), io.StringIO()
        self.assertEqual(0, cli.main(["whoami"], stdout=out, stderr=err), err.getvalue())
        self.assertIn(f"Workload key of deployment {_env('PLATFORM_DEPLOYMENT_ID')}", out.getvalue())


class DeploymentsApi(unittest.TestCase):
    def setUp(self) -> None:
        self.owner = platformsdk.Client(api_key=_env("PLATFORM_TEST_OWNER_KEY"))
        self.sharee = platformsdk.Client(api_key=_env("PLATFORM_TEST_SHAREE_KEY"))

    def test_create_get_list_stop_start_events_wait_and_delete(self) -> None:
        d = self.owner.deployments.create("development", "from the sdk", "open sesame 42", cpus=2, template="minimal")
        self.assertEqual(("running", "queued", 2.0, "minimal"), (d["desired"], d["observed"], d["cpus"], d["template"]))
        self.assertEqual(d["id"], self.owner.deployments.get(d["id"])["id"])
        self.assertIn(d["id"], [x["id"] for x in self.owner.deployments.list()])
        self.assertIn(d["id"], [x["id"] for x in self.owner.deployments.list(scope="mine")])

        # No Workers run here: the observed state stays queued, so waiting for it returns and waiting for running times out.
        self.assertEqual("queued", self.owner.deployments.wait(d["id"], "queued", timeout=5)["observed"])
        with self.assertRaises(TimeoutError):
            self.owner.deployments.wait(d["id"], "running", timeout=0.5, interval=0.1)
        with self.assertRaises(ValueError):
            self.owner.deployments.wait(d["id"], "sleeping")

        self.assertEqual("stopped", self.owner.deployments.stop(d["id"])["desired"])
        self.assertEqual("running", self.owner.deployments.start(d["id"])["desired"])
        messages = [e["message"] for e in self.owner.deployments.events(d["id"])]
        self.assertEqual(["Stop requested by sdk-owner", "Start requested by sdk-owner"], messages[1:])
        self.assertIsNone(self.owner.deployments.delete(d["id"]))
        self.assertEqual("deleted", self.owner.deployments.get(d["id"])["desired"])

    def test_errors_are_the_sdks_own(self) -> None:
        with self.assertRaises(platformsdk.BadRequestError) as caught:
            self.owner.deployments.create("development", "", "short")
        self.assertIn("title", caught.exception.errors)
        self.assertIn("password", caught.exception.errors)
        with self.assertRaises(platformsdk.NotFoundError):
            self.owner.deployments.get("00000000-0000-0000-0000-000000000000")

    def test_sharing_lets_a_user_see_it_but_not_stop_it(self) -> None:
        d = self.owner.deployments.create("development", "to share", "open sesame 42")
        with self.assertRaises(platformsdk.NotFoundError):
            self.sharee.deployments.get(d["id"])
        share = self.owner.deployments.share(d["id"], _env("PLATFORM_TEST_SHAREE_EMAIL"))
        self.assertEqual([share["userId"]], [s["userId"] for s in self.owner.deployments.shares(d["id"])])
        self.assertEqual("shared", self.sharee.deployments.get(d["id"])["access"])
        self.assertIn(d["id"], [x["id"] for x in self.sharee.deployments.list(scope="shared")])
        with self.assertRaises(platformsdk.PermissionDeniedError):
            self.sharee.deployments.stop(d["id"])
        self.owner.deployments.unshare(d["id"], share["userId"])
        with self.assertRaises(platformsdk.NotFoundError):
            self.sharee.deployments.get(d["id"])


class PlatDeployments(unittest.TestCase):
    def test_list_show_create_stop_start_events_delete(self) -> None:
        key = _env("PLATFORM_TEST_OWNER_KEY")
        with mock.patch("sys.stdin", io.StringIO("open sesame 42\n")):
            code, out, err = plat("deployments", "create", "development", "from plat", "--cpus", "1.5", "--password-stdin", key=key)
        self.assertEqual(0, code, err)
        self.assertTrue(out.startswith("created "), out)
        deployment_id = out.split()[1]

        code, out, err = plat("deployments", "list", key=key)
        self.assertEqual(0, code, err)
        self.assertIn(f"{deployment_id}\tqueued (wanted running)\tfrom plat\tdevelopment/jupyter", out)
        code, out, err = plat("deployments", "show", deployment_id, key=key)
        self.assertEqual(0, code, err)
        self.assertIn("hardware: 1.5 CPU", out)
        self.assertIn(f"/ide/{deployment_id}/", out)

        self.assertEqual(0, plat("deployments", "stop", deployment_id, key=key)[0])
        code, out, err = plat("deployments", "start", deployment_id, "--wait", "--wait-timeout", "0.3", key=key)
        self.assertEqual(1, code)  # no Workers here, so it never gets to running
        self.assertIn("not running", err)
        code, out, err = plat("deployments", "events", deployment_id, key=key)
        self.assertEqual(0, code, err)
        self.assertEqual(["Queued", "Queued", "Queued"], [line.split("\t")[1] for line in out.splitlines()])
        self.assertIn("Stop requested by sdk-owner", out)

        code, out, err = plat("deployments", "delete", deployment_id, key=key)
        self.assertEqual(1, code)
        self.assertIn("--yes", err)
        code, out, err = plat("deployments", "delete", deployment_id, "--yes", key=key)
        self.assertEqual(0, code, err)
        code, out, err = plat("deployments", "show", "00000000-0000-0000-0000-000000000000", key=key)
        self.assertEqual(1, code)
        self.assertIn("not found", err)


if __name__ == "__main__":
    unittest.main()
