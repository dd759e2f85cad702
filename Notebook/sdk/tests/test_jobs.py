"""Pure parts of ``client.jobs`` and ``plat jobs``: memory sizes, commands, the request body, the line format."""

from __future__ import annotations

import argparse
import io
import os
import unittest
from unittest import mock
from typing import Any, Dict, List

from platformsdk import cli
from platformsdk._cli_jobs import _spec, format_job
from platformsdk.jobs import Jobs, code_dataset_name, parse_memory, split_command


class RecordingClient:
    """Records the requests the SDK would send; answers each with the body it got."""

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []

    def request(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        self.sent.append({"method": method, "path": path, "json": json, "params": params})
        return json


class MemoryAndCommandTests(unittest.TestCase):
    def test_sizes_in_the_units_paddle_and_kubernetes_use(self) -> None:
        self.assertEqual(1024, parse_memory("1Gi"))
        self.assertEqual(512, parse_memory("512Mi"))
        self.assertEqual(2048, parse_memory("2G"))
        self.assertEqual(300, parse_memory("300"))
        self.assertEqual(300, parse_memory(300))
        self.assertEqual(1536, parse_memory("1.5Gi"))
        self.assertIsNone(parse_memory(None))
        for bad in ("lots", "1Pi", "-1Gi", True):
            with self.assertRaises(ValueError):
                parse_memory(bad)  # type: ignore[arg-type]

    def test_commands_split_like_a_shell(self) -> None:
        self.assertEqual(["python3", "train.py", "--name", "a b"], split_command("python3 train.py --name 'a b'"))
        self.assertEqual(["python3", "1"], split_command(["python3", 1]))  # type: ignore[list-item]
        self.assertIsNone(split_command(None))
        with self.assertRaises(ValueError):
            split_command("python3 'unclosed")

    def test_code_goes_to_a_dataset_named_after_the_job(self) -> None:
        self.assertEqual("mnist-v2-code", code_dataset_name("MNIST v2"))
        self.assertEqual("job-code", code_dataset_name("!!!"))


class SubmitBodyTests(unittest.TestCase):
    def test_create_cloud_job_arguments_become_replica_groups(self) -> None:
        client = RecordingClient()
        Jobs(client).submit("mnist", "python3 train.py --epochs 3", num_trainer=2, mem_per_trainer="1Gi", cpu_per_trainer=1,  # type: ignore[arg-type]
                            gpu_per_trainer=0, num_ps=1, mem_per_ps="512Mi", cpu_per_ps=0.5, options={"lr": 0.1},
                            datasets=["digits@1"])
        sent = client.sent[0]
        self.assertEqual(("POST", "/jobs"), (sent["method"], sent["path"]))
        body = sent["json"]
        self.assertEqual(["python3", "train.py", "--epochs", "3"], body["command"])
        self.assertEqual({"count": 2, "cpus": 1, "gpus": 0, "memoryMiB": 1024}, body["trainers"])
        self.assertEqual({"count": 1, "cpus": 0.5, "memoryMiB": 512}, body["parameterServers"])
        self.assertEqual({"lr": "0.1"}, body["options"])
        self.assertEqual(["digits@1"], body["datasets"])
        self.assertNotIn("code", body)

    def test_no_parameter_servers_is_said_explicitly(self) -> None:
        client = RecordingClient()
        Jobs(client).submit("one", ["true"])  # type: ignore[arg-type]
        self.assertEqual({"count": 0}, client.sent[0]["json"]["parameterServers"])

    def test_preview_refuses_unknown_arguments_before_any_call(self) -> None:
        client = RecordingClient()
        with self.assertRaises(TypeError):
            Jobs(client).preview("x", "true", trainers=3)  # type: ignore[arg-type]
        self.assertEqual([], client.sent)

    def test_report_progress_checks_the_fraction(self) -> None:
        client = RecordingClient()
        with self.assertRaises(ValueError):
            Jobs(client).report_progress(1.5, job_id="j1")  # type: ignore[arg-type]
        Jobs(client).report_progress(0.25, "epoch 1 of 4", job_id="j1")  # type: ignore[arg-type]
        self.assertEqual({"method": "POST", "path": "/jobs/j1/progress", "json": {"fraction": 0.25, "message": "epoch 1 of 4"},
                          "params": None}, client.sent[0])


class CommandLineTests(unittest.TestCase):
    def parse(self, argv: List[str]) -> argparse.Namespace:
        args = cli.build_parser().parse_args(argv[:argv.index("--")] if "--" in argv else argv)
        args.program = argv[argv.index("--") + 1:] if "--" in argv else []
        return args

    def test_the_program_follows_a_double_dash_and_keeps_its_own_options(self) -> None:
        args = self.parse(["jobs", "submit", "mnist", "--trainers", "2", "--option", "lr=0.1", "--trainer-memory", "2Gi",
                           "--", "python3", "train.py", "--epochs", "3"])
        spec = _spec(args)
        self.assertEqual(["python3", "train.py", "--epochs", "3"], spec["command"])
        self.assertEqual((2, "2Gi", {"lr": "0.1"}), (spec["num_trainer"], spec["mem_per_trainer"], spec["options"]))

    def test_a_malformed_option_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            _spec(self.parse(["jobs", "submit", "x", "--option", "novalue"]))

    def test_other_commands_keep_the_usual_meaning_of_double_dash(self) -> None:
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, {"PLATFORM_API_URL": "", "PLATFORM_API_KEY": "", "PLATFORM_CONFIG": "/nonexistent"}):
            cli.main(["jobs", "show", "--", "--help"], stdout=out, stderr=err)
        # "--help" after "--" is the job id (not the help option, not dropped): it gets as far as wanting a configuration.
        self.assertNotIn("required: ID", err.getvalue())
        self.assertNotIn("usage:", out.getvalue())

    def test_one_line_says_why_a_job_waits_and_how_far_one_runs(self) -> None:
        base = dict(id="j1", name="mnist", trainers=2, parameterServers=1, access="owner")
        self.assertEqual("j1\tqueued (waiting for 1 GPU: 2 of 2 in use, #2)\tmnist\t2T+1PS",
                         format_job(dict(base, state="queued", queueReason="waiting for 1 GPU: 2 of 2 in use", queuePosition=2)))
        self.assertEqual("j1\trunning 40%\tmnist\t2T+1PS", format_job(dict(base, state="running", progress=0.4)))
        self.assertEqual("j1\tfailed (trainer-1 exited with code 2)\tmnist\t2T+1PS\t[master]",
                         format_job(dict(base, state="failed", reason="trainer-1 exited with code 2\nTraceback", access="master")))


if __name__ == "__main__":
    unittest.main()
