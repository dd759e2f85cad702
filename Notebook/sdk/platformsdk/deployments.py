"""Deployments: notebooks, editors and module APIs run for the caller, reached as ``client.deployments``.

A deployment holds what its owner wants (``desired``: running, stopped,
deleted) beside what the platform last saw (``observed``: queued, starting,
running, stopping, stopped, failed). Creating, starting, stopping and
deleting change what is wanted and return at once; ``wait`` follows the
observed state until it arrives.

Inside a running deployment the platform sets ``PLATFORM_API_URL``,
``PLATFORM_API_KEY`` and ``PLATFORM_DEPLOYMENT_ID``, so ``Client()`` acts as
the deployment's owner with no configuration and ``current()`` is the
deployment the code runs in.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional

if TYPE_CHECKING:
    from .client import Client

ENV_DEPLOYMENT_ID = "PLATFORM_DEPLOYMENT_ID"
STATES = ("queued", "starting", "running", "stopping", "stopped", "failed")


class DeploymentFailedError(RuntimeError):
    """``wait`` saw the deployment fail on its way to the state waited for."""

    def __init__(self, deployment: Dict[str, Any]) -> None:
        self.deployment = deployment
        super().__init__(f"deployment {deployment.get('title')!r} ({deployment.get('id')}) failed: "
                         f"{deployment.get('reason') or 'no reason given'}")


class Deployments:
    """The deployments endpoints for one client."""

    def __init__(self, client: "Client") -> None:
        self.client = client

    def list(self, scope: Optional[str] = None, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Yield the caller's deployments and those shared with them, newest first.

        ``scope``: ``"mine"``, ``"shared"`` (with me) or ``"account"`` (every
        deployment of the accounts the caller is master of). Each has an
        ``access``: ``"owner"``, ``"shared"`` or ``"master"``.
        """
        return self._pages("/deployments", {"scope": scope}, page_size)

    def get(self, deployment_id: str) -> Dict[str, Any]:
        """Return one deployment by id."""
        return self.client.request("GET", f"/deployments/{_quote(deployment_id)}")

    def current(self) -> Dict[str, Any]:
        """Return the deployment this code runs in (``$PLATFORM_DEPLOYMENT_ID``)."""
        deployment_id = os.environ.get(ENV_DEPLOYMENT_ID, "").strip()
        if not deployment_id:
            raise LookupError(f"not inside a deployment: ${ENV_DEPLOYMENT_ID} is not set")
        return self.get(deployment_id)

    def create(
        self,
        module: str,
        title: str,
        password: Optional[str] = None,
        *,
        service: Optional[str] = None,
        description: str = "",
        cpus: Optional[float] = None,
        gpus: Optional[int] = None,
        memory_mib: Optional[int] = None,
        disk_gib: Optional[int] = None,
        template: Optional[str] = None,
        image_tag: Optional[str] = None,
        datasets: Iterable[str] = (),
        account_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Deploy a catalog module (it starts at once); hardware left out takes the module's defaults.

        ``service`` is ``jupyter``, ``vscode`` or ``api``; ``password`` opens
        the IDE (9 to 200 characters); ``datasets`` are ``name@version``.
        """
        body = {"accountId": account_id, "module": module, "title": title, "description": description,
                "service": service, "imageTag": image_tag, "cpus": cpus, "gpus": gpus, "memoryMiB": memory_mib,
                "diskGiB": disk_gib, "template": template, "datasets": list(datasets), "password": password}
        return self.client.request("POST", "/deployments", json={k: v for k, v in body.items() if v is not None})

    def start(self, deployment_id: str) -> Dict[str, Any]:
        """Start a stopped deployment, or run a failed one again."""
        return self.client.request("POST", f"/deployments/{_quote(deployment_id)}/start")

    def stop(self, deployment_id: str) -> Dict[str, Any]:
        """Stop the deployment; its workspace is kept for the next start."""
        return self.client.request("POST", f"/deployments/{_quote(deployment_id)}/stop")

    def delete(self, deployment_id: str) -> None:
        """Stop the deployment and remove its workspace (every file in it)."""
        self.client.request("DELETE", f"/deployments/{_quote(deployment_id)}")

    def events(self, deployment_id: str, page_size: int = 200) -> List[Dict[str, Any]]:
        """Every event so far, oldest first: who asked for what, and what the platform saw and did."""
        return list(self._pages(f"/deployments/{_quote(deployment_id)}/events", {}, page_size))

    def wait(self, deployment_id: str, state: str = "running", timeout: float = 300.0,
             interval: float = 1.0) -> Dict[str, Any]:
        """Poll until the observed state is ``state`` and return the deployment.

        Raises DeploymentFailedError when it fails instead (unless waiting for
        ``"failed"``) and TimeoutError after ``timeout`` seconds.
        """
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        deadline = time.monotonic() + timeout
        while True:
            deployment = self.get(deployment_id)
            observed = deployment.get("observed")
            if observed == state:
                return deployment
            # A failure of the generation now wanted is final until someone starts it again.
            if observed == "failed" and deployment.get("observedGeneration") == deployment.get("generation"):
                raise DeploymentFailedError(deployment)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"deployment {deployment_id} is {observed} (wanted {deployment.get('desired')}), "
                                   f"not {state}, after {timeout:g} s")
            time.sleep(min(interval, left))

    def shares(self, deployment_id: str) -> List[Dict[str, Any]]:
        """The users the deployment is shared with (owner only)."""
        return self.client.request("GET", f"/deployments/{_quote(deployment_id)}/shares")

    def share(self, deployment_id: str, email: str) -> Dict[str, Any]:
        """Let the user with this e-mail open the deployment's IDE; they cannot change the deployment."""
        return self.client.request("POST", f"/deployments/{_quote(deployment_id)}/shares", json={"email": email})

    def unshare(self, deployment_id: str, user_id: str) -> None:
        """Stop sharing with a user (by the ``userId`` of their share)."""
        self.client.request("DELETE", f"/deployments/{_quote(deployment_id)}/shares/{_quote(user_id)}")

    def _pages(self, path: str, params: Dict[str, Any], page_size: int) -> Iterator[Dict[str, Any]]:
        page = 1
        seen = 0
        while True:
            answer = self.client.request("GET", path, params=dict(params, page=page, pageSize=page_size))
            items = answer.get("items") or []
            yield from items
            seen += len(items)
            # Stop on an empty page too, so a total that shrinks mid-listing cannot loop forever.
            if not items or seen >= int(answer.get("total") or 0):
                return
            page += 1


def _quote(value: str) -> str:
    return urllib.parse.quote(str(value).strip(), safe="")
