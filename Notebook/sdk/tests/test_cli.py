"""The `plat` command line, in process through main(argv) and once as `python -m platformsdk`."""

import io
import json
import os
import subprocess
import sys
import unittest
from contextlib import redirect_stderr, redirect_stdout
from typing import List, Tuple

try:
    from . import support
except ImportError:  # started with tests/ as the top-level directory
    import support

import platformsdk
from platformsdk.cli import main


def run_cli(argv: List[str]) -> Tuple[int, str, str]:
    """Run main(argv) in process and return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


class WhoamiCommandTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)

    def test_human_summary(self) -> None:
        code, out, err = run_cli(["whoami"])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            f"Signed in to {self.fake.url} as ada@example.org (Ada Lovelace), platform admin",
            "Accounts:",
            "  * Research (master)",
            "    Teaching (viewer)",
            "Access key: laptop (scope full, expires 2030-01-01T00:00:00Z)",
        ])

    def test_human_summary_for_plain_member_without_key(self) -> None:
        me = {
            "user": {"id": "u2", "email": "bob@example.org", "displayName": "bob@example.org", "isPlatformAdmin": False},
            "accounts": [],
            "currentAccountId": None,
            "accessKey": None,
        }
        self.fake.routes[("GET", "/api/v1/me")] = support.Reply(body=me)
        code, out, _ = run_cli(["whoami"])
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines(), [
            f"Signed in to {self.fake.url} as bob@example.org, not a platform admin",
            "Accounts: none",
            "Access key: none (signed in without an access key)",
        ])

    def test_key_without_expiry(self) -> None:
        me = dict(support.ME, accessKey={"id": "k", "name": "ci", "scope": "read", "expiresAt": None})
        self.fake.routes[("GET", "/api/v1/me")] = support.Reply(body=me)
        _, out, _ = run_cli(["whoami"])
        self.assertIn("Access key: ci (scope read, never expires)", out.splitlines())

    def test_json_output(self) -> None:
        code, out, err = run_cli(["whoami", "--json"])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(json.loads(out), support.ME)

    def test_global_options_override_environment(self) -> None:
        other = self.start_platform(api_key="plat_other")
        os.environ["PLATFORM_API_KEY"] = "plat_wrong"
        code, out, err = run_cli(["--api-url", other.url, "--api-key", "plat_other", "whoami", "--json"])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(json.loads(out)["user"]["email"], "ada@example.org")
        self.assertEqual(len(other.seen), 1)
        self.assertEqual(self.fake.seen, [])

    def test_options_are_accepted_after_the_subcommand(self) -> None:
        code, _, err = run_cli(["--api-key", "plat_wrong", "whoami", "--api-key", support.TEST_KEY])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(self.fake.seen[0].headers["Authorization"], f"Bearer {support.TEST_KEY}")

    def test_config_option_reads_that_file(self) -> None:
        del os.environ["PLATFORM_API_URL"], os.environ["PLATFORM_API_KEY"]
        path = self.write_config({"api_url": self.fake.url, "api_key": support.TEST_KEY},
                                 os.path.join(self.home, "downloaded.json"))
        code, out, _ = run_cli(["--config", path, "whoami", "--json"])
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out)["accounts"][0]["name"], "Research")

    def test_platform_error_prints_message_and_exits_1(self) -> None:
        code, out, err = run_cli(["--api-key", "plat_wrong", "whoami"])
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err, "error: 401 Unauthorized: The access key is missing, unknown, expired or revoked.\n")

    def test_server_error_with_field_errors_exits_1(self) -> None:
        self.fake.routes[("GET", "/api/v1/me")] = support.problem(
            403, "Forbidden", "Read-only keys cannot do this.", errors={"scope": ["full required"]})
        code, _, err = run_cli(["whoami"])
        self.assertEqual(code, 1)
        self.assertEqual(err, "error: 403 Forbidden: Read-only keys cannot do this.\n  scope: full required\n")

    def test_connection_refused_exits_1(self) -> None:
        url = f"http://127.0.0.1:{support.unused_port()}"
        code, _, err = run_cli(["--api-url", url, "whoami"])
        self.assertEqual(code, 1)
        self.assertTrue(err.startswith(f"error: could not reach the platform at {url}/api/v1/me"), err)


class UsageTests(support.IsolatedTestCase):
    def test_missing_configuration_exits_2(self) -> None:
        code, out, err = run_cli(["whoami"])
        self.assertEqual((code, out), (2, ""))
        self.assertTrue(err.startswith("error: no platform API URL or access key configured"), err)
        self.assertIn("PLATFORM_API_URL", err)
        self.assertIn(os.path.join(self.home, ".config", "platform", "config.json"), err)

    def test_broken_config_file_exits_2(self) -> None:
        path = self.write_config("{", os.path.join(self.home, "bad.json"))
        code, _, err = run_cli(["--config", path, "whoami"])
        self.assertEqual(code, 2)
        self.assertIn(f"the platform config file {path} is not valid JSON", err)

    def test_no_command_prints_help_and_exits_2(self) -> None:
        code, _, err = run_cli([])
        self.assertEqual(code, 2)
        self.assertIn("usage: plat", err)
        self.assertIn("whoami", err)

    def test_unknown_command_exits_2(self) -> None:
        code, _, err = run_cli(["frobnicate"])
        self.assertEqual(code, 2)
        self.assertIn("invalid choice: 'frobnicate'", err)

    def test_version(self) -> None:
        code, out, _ = run_cli(["--version"])
        self.assertEqual(code, 0)
        self.assertEqual(out.strip(), f"plat (platformsdk) {platformsdk.__version__}")


class SubprocessTests(support.IsolatedTestCase):
    """`python3 -m platformsdk` as a user runs it, with only PYTHONPATH pointing at the SDK."""

    def _run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        environ = dict(os.environ, PYTHONPATH=support.SDK_ROOT, **env)
        return subprocess.run(
            [sys.executable, "-m", "platformsdk", *args],
            cwd=self.home, env=environ, capture_output=True, text=True, timeout=60,
        )

    def test_module_entry_point_whoami(self) -> None:
        fake = self.start_platform()
        result = self._run("whoami", PLATFORM_API_URL=fake.url, PLATFORM_API_KEY=support.TEST_KEY)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertIn("as ada@example.org (Ada Lovelace), platform admin", result.stdout)
        self.assertIn("  * Research (master)", result.stdout)
        self.assertEqual(fake.seen[0].headers["Authorization"], f"Bearer {support.TEST_KEY}")

    def test_module_entry_point_exit_codes(self) -> None:
        fake = self.start_platform()
        denied = self._run("whoami", PLATFORM_API_URL=fake.url, PLATFORM_API_KEY="plat_wrong")
        self.assertEqual(denied.returncode, 1, denied.stderr)
        self.assertTrue(denied.stderr.startswith("error: 401 Unauthorized"), denied.stderr)
        unconfigured = self._run("whoami")
        self.assertEqual(unconfigured.returncode, 2, unconfigured.stderr)
        self.assertIn("PLATFORM_API_KEY", unconfigured.stderr)


if __name__ == "__main__":
    unittest.main()
