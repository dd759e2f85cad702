"""ProblemDetails answers become typed exceptions carrying the server's message."""

import pickle
import unittest

try:
    from . import support
except ImportError:  # started with tests/ as the top-level directory
    import support

import platformsdk
from platformsdk import (
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PlatformConnectionError,
    PlatformError,
    RateLimitError,
    ServerError,
)
from platformsdk.errors import error_from_response

STATUS_CASES = [
    (400, "Bad Request", BadRequestError),
    (401, "Unauthorized", AuthenticationError),
    (403, "Forbidden", PermissionDeniedError),
    (404, "Not Found", NotFoundError),
    (409, "Conflict", ConflictError),
    (413, "Payload Too Large", PayloadTooLargeError),
    (429, "Too Many Requests", RateLimitError),
    (500, "Internal Server Error", ServerError),
    (502, "Bad Gateway", ServerError),
    (503, "Service Unavailable", ServerError),
]


class ProblemDetailsMappingTests(support.IsolatedTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.fake = self.start_platform()
        self.client = Client(self.fake.url, support.TEST_KEY)

    def _raise_for(self, reply: support.Reply) -> PlatformError:
        self.fake.routes[("GET", "/api/v1/thing")] = reply
        with self.assertRaises(PlatformError) as caught:
            self.client.request("GET", "/thing")
        return caught.exception

    def test_every_status_maps_to_its_class_with_the_server_message(self) -> None:
        for status, title, cls in STATUS_CASES:
            with self.subTest(status=status):
                detail = f"Detail for {status}."
                error = self._raise_for(support.problem(status, title, detail, traceId=f"00-trace-{status}"))
                self.assertIs(type(error), cls)
                self.assertEqual(error.status, status)
                self.assertEqual(error.title, title)
                self.assertEqual(error.detail, detail)
                self.assertEqual(error.errors, {})
                self.assertEqual(error.trace_id, f"00-trace-{status}")
                self.assertEqual(error.problem["status"], status)
                self.assertEqual(error.problem["type"], f"https://tools.ietf.org/html/rfc9110#status-{status}")
                self.assertEqual(str(error), f"{status} {title}: {detail}\n  (trace id 00-trace-{status})")

    def test_unmapped_status_gives_the_base_class(self) -> None:
        error = self._raise_for(support.problem(422, "Unprocessable Entity", "Nope."))
        self.assertIs(type(error), PlatformError)
        self.assertEqual(str(error), "422 Unprocessable Entity: Nope.")

    def test_field_errors_are_kept_and_shown(self) -> None:
        error = self._raise_for(support.problem(
            400, "One or more validation errors occurred.",
            errors={"Name": ["The Name field is required.", "Name must be at most 64 characters."],
                    "Replicas": ["Replicas must be between 1 and 16."]},
            traceId="00-abc-01",
        ))
        self.assertIsInstance(error, BadRequestError)
        self.assertIsNone(error.detail)
        self.assertEqual(error.errors["Replicas"], ["Replicas must be between 1 and 16."])
        self.assertEqual(
            str(error),
            "400 One or more validation errors occurred.\n"
            "  Name: The Name field is required.; Name must be at most 64 characters.\n"
            "  Replicas: Replicas must be between 1 and 16.\n"
            "  (trace id 00-abc-01)",
        )

    def test_missing_key_is_an_authentication_error(self) -> None:
        with self.assertRaises(AuthenticationError) as caught:
            Client(self.fake.url, "plat_wrong").whoami()
        self.assertEqual(caught.exception.status, 401)
        self.assertIn("The access key is missing, unknown, expired or revoked.", str(caught.exception))

    def test_unknown_path_is_not_found(self) -> None:
        with self.assertRaises(NotFoundError) as caught:
            self.client.request("GET", "/nothing-here")
        self.assertEqual(caught.exception.detail, "No endpoint at /api/v1/nothing-here.")

    def test_non_json_body_keeps_status_and_first_500_characters(self) -> None:
        html = "<html><body>" + "x" * 1000 + "</body></html>"
        error = self._raise_for(support.Reply(status=502, body=html, content_type="text/html"))
        self.assertIs(type(error), ServerError)
        self.assertEqual(error.status, 502)
        self.assertEqual(error.title, "Bad Gateway")
        self.assertEqual(error.detail, html[:500])
        self.assertEqual(len(error.detail), 500)
        self.assertEqual(error.problem, {})
        self.assertTrue(str(error).startswith("502 Bad Gateway: <html><body>xxx"))

    def test_empty_error_body(self) -> None:
        error = self._raise_for(support.Reply(status=403, body=None))
        self.assertIs(type(error), PermissionDeniedError)
        self.assertIsNone(error.detail)
        self.assertEqual(str(error), "403 Forbidden")

    def test_error_survives_pickling(self) -> None:
        error = self._raise_for(support.problem(409, "Conflict", "Name taken.", errors={"Name": ["taken"]}))
        copy = pickle.loads(pickle.dumps(error))
        self.assertIs(type(copy), ConflictError)
        self.assertEqual((copy.status, copy.detail, copy.errors, str(copy)),
                         (409, "Name taken.", {"Name": ["taken"]}, str(error)))


class ErrorFromResponseTests(unittest.TestCase):
    def test_json_that_is_not_an_object_is_treated_as_text(self) -> None:
        error = error_from_response(500, b'["boom"]')
        self.assertIs(type(error), ServerError)
        self.assertEqual(error.detail, '["boom"]')

    def test_single_string_field_error_becomes_a_list(self) -> None:
        error = error_from_response(400, b'{"title": "Bad", "errors": {"": "Body is not JSON."}}')
        self.assertEqual(error.errors, {"": ["Body is not JSON."]})
        self.assertEqual(str(error), "400 Bad\n  (request): Body is not JSON.")

    def test_transport_status_decides_the_class(self) -> None:
        error = error_from_response(404, b'{"title": "Not Found", "status": 500}')
        self.assertIs(type(error), NotFoundError)
        self.assertEqual(error.status, 404)
        self.assertEqual(error.problem["status"], 500)

    def test_all_errors_are_exported_and_derive_from_platform_error(self) -> None:
        for _, _, cls in STATUS_CASES:
            self.assertTrue(issubclass(cls, PlatformError))
            self.assertIs(getattr(platformsdk, cls.__name__), cls)


class ConnectionFailureTests(support.IsolatedTestCase):
    def test_connection_refused_names_the_url(self) -> None:
        url = f"http://127.0.0.1:{support.unused_port()}"
        with self.assertRaises(PlatformConnectionError) as caught:
            Client(url, support.TEST_KEY, timeout=5).whoami()
        error = caught.exception
        self.assertIsInstance(error, ConnectionError)
        self.assertNotIsInstance(error, PlatformError)
        self.assertEqual(error.url, f"{url}/api/v1/me")
        self.assertIn(f"could not reach the platform at {url}/api/v1/me", str(error))
        self.assertIn("refused", str(error).lower())


if __name__ == "__main__":
    unittest.main()
