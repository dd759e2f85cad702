"""Tests of the SDK and ``plat`` against a real Api, run by tests/Notebook.Tests (SdkAgainstApiTests).

The harness starts the Api, makes the users and a running deployment, and passes what a launched workload gets
(PLATFORM_API_URL, PLATFORM_API_KEY, PLATFORM_DEPLOYMENT_ID) plus PLATFORM_TEST_* values for the checks.
"""
