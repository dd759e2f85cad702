"""``client.deployments.wait`` and the ``plat deployments`` line format, with a scripted client."""

from __future__ import annotations

import unittest
from typing import Any, Dict, List

from platformsdk import DeploymentFailedError
from platformsdk._cli_deployments import format_deployment
from platformsdk.deployments import Deployments


class ScriptedClient:
    """Answers each GET of the deployment with the next state in the script (the last one repeats)."""

    def __init__(self, states: List[Dict[str, Any]]) -> None:
        self.states = states
        self.calls: List[str] = []

    def request(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        self.calls.append(f"{method} {path}")
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def deployment(observed: str, desired: str = "running", generation: int = 1, observed_generation: int = 1,
               **extra: Any) -> Dict[str, Any]:
    return dict(id="d1", title="nb", module="development", service="jupyter", observed=observed, desired=desired,
                generation=generation, observedGeneration=observed_generation, **extra)


class WaitTests(unittest.TestCase):
    def test_returns_once_the_state_is_observed(self) -> None:
        client = ScriptedClient([deployment("queued", observed_generation=0), deployment("starting"), deployment("running")])
        self.assertEqual("running", Deployments(client).wait("d1", "running", timeout=5, interval=0)["observed"])  # type: ignore[arg-type]
        self.assertEqual(["GET /deployments/d1"] * 3, client.calls)

    def test_a_failure_of_the_wanted_generation_raises_with_the_reason(self) -> None:
        client = ScriptedClient([deployment("failed", reason="exited with code 1")])
        with self.assertRaises(DeploymentFailedError) as caught:
            Deployments(client).wait("d1", "running", timeout=5, interval=0)  # type: ignore[arg-type]
        self.assertIn("exited with code 1", str(caught.exception))

    def test_an_old_failure_being_retried_is_waited_through(self) -> None:
        client = ScriptedClient([deployment("failed", generation=2, observed_generation=1), deployment("running", generation=2, observed_generation=2)])
        self.assertEqual("running", Deployments(client).wait("d1", timeout=5, interval=0)["observed"])  # type: ignore[arg-type]

    def test_times_out_saying_where_it_is(self) -> None:
        client = ScriptedClient([deployment("queued", observed_generation=0)])
        with self.assertRaises(TimeoutError) as caught:
            Deployments(client).wait("d1", "running", timeout=0.05, interval=0.01)  # type: ignore[arg-type]
        self.assertIn("queued (wanted running), not running", str(caught.exception))

    def test_an_unknown_state_is_refused_before_any_call(self) -> None:
        client = ScriptedClient([deployment("running")])
        with self.assertRaises(ValueError):
            Deployments(client).wait("d1", "asleep")  # type: ignore[arg-type]
        self.assertEqual([], client.calls)


class FormatTests(unittest.TestCase):
    def test_one_line_shows_the_wanted_state_only_when_it_differs_and_access_when_not_owner(self) -> None:
        self.assertEqual("d1\trunning\tnb\tdevelopment/jupyter", format_deployment(deployment("running", access="owner")))
        self.assertEqual("d1\tqueued (wanted stopped)\tnb\tdevelopment/jupyter\t[shared]",
                         format_deployment(deployment("queued", desired="stopped", access="shared")))


if __name__ == "__main__":
    unittest.main()
