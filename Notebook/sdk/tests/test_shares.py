"""client.datasets.share / shares / unshare / set_public and ``plat datasets share|shares|unshare|public``."""

import json
import os
import uuid
from typing import Any, Dict, List, Optional

try:
    from . import fake_datasets, support
    from .test_cli import run_cli
except ImportError:  # started with tests/ as the top-level directory
    import fake_datasets
    import support
    from test_cli import run_cli

from platformsdk import Client, NotFoundError


class FakeShares:
    """Shares of the fake's datasets, answering like the server (ShareResponse)."""

    def __init__(self, fake: "support.FakePlatform", store: "fake_datasets.FakeDatasets") -> None:
        self.store = store
        self.shares: Dict[str, List[Dict[str, Any]]] = {}
        self.public: Dict[str, bool] = {}
        fake.handlers.append(self.handle)

    def handle(self, seen: "support.Seen") -> Optional["support.Reply"]:
        parts = seen.path.partition("?")[0].split("/")[3:]
        if parts[:1] != ["datasets"] or len(parts) < 3 or parts[1] not in self.store.datasets:
            return None
        dataset_id, rest = parts[1], parts[2:]
        entries = self.shares.setdefault(dataset_id, [])
        if rest == ["shares"] and seen.method == "GET":
            return support.Reply(body=entries)
        if rest == ["shares"] and seen.method == "POST":
            body = json.loads(seen.body)
            if body.get("access") not in ("read", "write"):
                return support.problem(400, "One or more validation errors occurred.", errors={"access": ["read or write"]})
            user = body.get("email")
            entry = {"id": str(uuid.uuid4()), "granteeType": "user" if user else "account",
                     "granteeId": str(uuid.uuid4()) if user else body["accountId"],
                     "granteeName": user or "Partner lab", "access": body["access"], "createdAt": fake_datasets.NOW}
            entries.append(entry)
            return support.Reply(status=201, body=entry)
        if len(rest) == 2 and rest[0] == "shares" and seen.method == "DELETE":
            before = len(entries)
            entries[:] = [e for e in entries if e["id"] != rest[1]]
            return support.Reply(status=204) if len(entries) < before else support.problem(404, "Not Found", "Share not found.")
        if rest == ["public"] and seen.method in ("PUT", "DELETE"):
            self.public[dataset_id] = seen.method == "PUT"
            return support.Reply(body=self.store._dataset(dataset_id))
        return None


class ShareTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.store = fake_datasets.FakeDatasets(self.fake)
        self.shares = FakeShares(self.fake, self.store)
        self.dataset = self.store.add("pets")
        self.client = Client(self.fake.url, support.TEST_KEY)
        os.environ.update(PLATFORM_API_URL=self.fake.url, PLATFORM_API_KEY=support.TEST_KEY)

    def test_share_with_a_user_then_revoke_by_email(self) -> None:
        entry = self.client.datasets.share("pets", user="reader@example.test")
        self.assertEqual((entry["granteeType"], entry["access"]), ("user", "read"))
        self.assertEqual([e["granteeName"] for e in self.client.datasets.shares("pets")], ["reader@example.test"])

        revoked = self.client.datasets.unshare("pets", "READER@example.test")
        self.assertEqual(revoked["id"], entry["id"])
        self.assertEqual(self.client.datasets.shares("pets"), [])
        with self.assertRaises(LookupError):
            self.client.datasets.unshare("pets", "reader@example.test")

    def test_share_with_an_account_for_writing_and_revoke_by_share_id(self) -> None:
        account = str(uuid.uuid4())
        entry = self.client.datasets.share("pets", account=account, access="write")
        self.assertEqual((entry["granteeId"], entry["access"]), (account, "write"))
        self.client.datasets.unshare("pets", entry["id"])
        self.assertEqual(self.shares.shares[self.dataset["id"]], [])

    def test_bad_arguments_are_refused_before_any_request(self) -> None:
        for kwargs in ({}, {"user": "a@b.c", "account": "x"}, {"user": "a@b.c", "access": "admin"}):
            with self.subTest(kwargs=kwargs), self.assertRaises(ValueError):
                self.client.datasets.share("pets", **kwargs)
        self.assertFalse([s for s in self.fake.seen if "/shares" in s.path])

    def test_sharing_an_unknown_dataset_is_not_found(self) -> None:
        with self.assertRaises(NotFoundError):
            self.client.datasets.share(str(uuid.uuid4()), user="a@b.c")

    def test_public_on_and_off(self) -> None:
        self.client.datasets.set_public("pets")
        self.assertTrue(self.shares.public[self.dataset["id"]])
        self.client.datasets.set_public("pets", public=False)
        self.assertFalse(self.shares.public[self.dataset["id"]])

    def test_cli_share_shares_unshare_public(self) -> None:
        code, out, err = run_cli(["datasets", "share", "pets", "--user", "reader@example.test"])
        self.assertEqual((code, err), (0, ""))
        self.assertIn("shared pets with user reader@example.test (read)", out)
        code, out, _ = run_cli(["datasets", "shares", "pets"])
        self.assertIn("user\treader@example.test\tread\t", out)
        code, out, _ = run_cli(["datasets", "unshare", "pets", "reader@example.test"])
        self.assertEqual(code, 0)
        self.assertIn("revoked read access of user reader@example.test to pets", out)
        self.assertIn("pets is not shared", run_cli(["datasets", "shares", "pets"])[1])
        code, _, err = run_cli(["datasets", "unshare", "pets", "reader@example.test"])
        self.assertEqual(code, 1)
        self.assertIn("no share of this dataset matches 'reader@example.test'", err)
        self.assertIn("now in the public catalog", run_cli(["datasets", "public", "pets"])[1])
        self.assertIn("no longer in the public catalog", run_cli(["datasets", "public", "pets", "--off"])[1])

    def test_cli_share_needs_exactly_one_grantee(self) -> None:
        code, _, err = run_cli(["datasets", "share", "pets"])
        self.assertNotEqual(code, 0)
        self.assertIn("--user", err)
