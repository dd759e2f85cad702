"""Python SDK for Platform, the self-hosted ML workbench.

Quick start::

    import platformsdk
    me = platformsdk.whoami()            # configured from PLATFORM_* or the config file
    client = platformsdk.Client(api_url="http://127.0.0.1:5080", api_key="plat_...")
    client.whoami()["user"]["email"]
    client.datasets.upload_folder("images@draft", "./images")
    client.models.register("./out", "digits", framework="pytorch", alias="production")
    d = client.deployments.create("development", "scratch", password="a long password")
    client.deployments.wait(d["id"], "running")
    job = platformsdk.create_cloud_job("mnist", num_trainer=2, mem_per_trainer="1Gi", cpu_per_trainer=1,
                                       command="python3 train.py", code_dir=".")
    client.jobs.wait(job["id"])

Inside a deployment's IDE, ``platformsdk.Client()`` needs nothing: the platform sets
``PLATFORM_API_URL`` and ``PLATFORM_API_KEY`` (a key that acts as the deployment's owner
while it runs) and ``PLATFORM_DEPLOYMENT_ID``. Inside a job's replicas the same holds (with ``PLATFORM_JOB_ID``), and
``platformsdk.report_progress(0.5, "epoch 5 of 10")`` shows on the job dashboard.

Live training boards (``platformsdk.metrics``)::

    platformsdk.log_metrics({"loss": 0.42, "accuracy": 0.91})   # buffered, sent in the background
    platformsdk.draw_board("loss", "accuracy", title="training")
"""

from ._version import __version__
from .client import DEFAULT_TIMEOUT, Client, default_client, whoami
from .datasets import Datasets, format_ref, parse_ref
from .deployments import DeploymentFailedError, Deployments
from .jobs import JobFailedError, Jobs, create_cloud_job, report_progress
from .metrics import Run, current_run, draw_board, finish, flush, init_run, log_metric, log_metrics
from .models import Models
from .config import ENV_API_KEY, ENV_API_URL, ENV_CONFIG, Config, default_config_path, load_config
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PlatformConnectionError,
    PlatformError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "__version__",
    "Client",
    "DEFAULT_TIMEOUT",
    "default_client",
    "whoami",
    "Datasets",
    "Models",
    "Deployments",
    "DeploymentFailedError",
    "Jobs",
    "JobFailedError",
    "create_cloud_job",
    "report_progress",
    "Run",
    "init_run",
    "current_run",
    "log_metric",
    "log_metrics",
    "draw_board",
    "flush",
    "finish",
    "parse_ref",
    "format_ref",
    "Config",
    "load_config",
    "default_config_path",
    "ENV_API_URL",
    "ENV_API_KEY",
    "ENV_CONFIG",
    "PlatformError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServerError",
    "ConfigurationError",
    "PlatformConnectionError",
]
