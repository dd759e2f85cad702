"""Where the SDK finds the platform's address and the caller's access key.

Each field is resolved on its own, first match wins:

1. an explicit argument (``Client(api_url=..., api_key=...)`` or a CLI option);
2. the environment: ``PLATFORM_API_URL`` and ``PLATFORM_API_KEY``;
3. a JSON file: the path given explicitly, else ``$PLATFORM_CONFIG``, else
   ``~/.config/platform/config.json``. It is the file the web UI offers for
   download: ``{"api_url": "...", "api_key": "plat_..."}``; other keys are ignored.

Resolving per field lets a notebook keep the downloaded file for the key while
a launcher overrides only the URL through the environment.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import ConfigurationError

ENV_API_URL = "PLATFORM_API_URL"
ENV_API_KEY = "PLATFORM_API_KEY"
ENV_CONFIG = "PLATFORM_CONFIG"


@dataclass(frozen=True)
class Config:
    """A resolved configuration: where to call and with which key."""

    api_url: str
    api_key: str
    # Kept so messages and `plat` can say which file was consulted.
    config_path: str

    def __repr__(self) -> str:
        """Show the URL and file but never the secret key."""
        return f"Config(api_url={self.api_url!r}, api_key='***', config_path={self.config_path!r})"


def default_config_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return the config file to read: ``$PLATFORM_CONFIG`` or ``~/.config/platform/config.json``."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_CONFIG)
    if explicit:
        return os.path.expanduser(explicit)
    return os.path.join(os.path.expanduser("~"), ".config", "platform", "config.json")


def load_config(
    api_url: Optional[str] = None,
    api_key: Optional[str] = None,
    config_path: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> Config:
    """Resolve the API URL and key from arguments, environment and config file.

    ``config_path`` replaces ``$PLATFORM_CONFIG`` and the default path. The file
    is read only when an argument and the environment leave a field unset, so a
    broken file does not matter to someone who configures everything by env.

    Raises ConfigurationError when a field stays unset or a value is unusable.
    """
    env = os.environ if environ is None else environ
    path = os.path.expanduser(config_path) if config_path else default_config_path(env)

    url = _first(api_url, env.get(ENV_API_URL))
    key = _first(api_key, env.get(ENV_API_KEY))
    file_found = None
    if url is None or key is None:
        values, file_found = _read_file(path)
        url = _first(url, _string_field(values, "api_url", path))
        key = _first(key, _string_field(values, "api_key", path))

    missing = [name for name, value in (("API URL", url), ("access key", key)) if value is None]
    if missing:
        where = "found" if file_found else "not found"
        raise ConfigurationError(
            f"no platform {' or '.join(missing)} configured. Pass api_url/api_key (or --api-url/--api-key), "
            f"set {ENV_API_URL} and {ENV_API_KEY}, or save the config file from the web UI to {path} "
            f"({where}; {ENV_CONFIG} chooses another path)."
        )
    assert url is not None and key is not None
    return Config(api_url=_normalise_url(url), api_key=key, config_path=path)


def _first(*values: Optional[str]) -> Optional[str]:
    # An empty string means "unset", as `export PLATFORM_API_KEY=` suggests.
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def _read_file(path: str) -> Tuple[Dict[str, Any], bool]:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}, False
    except OSError as exc:
        raise ConfigurationError(f"cannot read the platform config file {path}: {exc}") from exc
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"the platform config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigurationError(
            f"the platform config file {path} must hold a JSON object like "
            '{"api_url": "http://127.0.0.1:5080", "api_key": "plat_..."}'
        )
    return values, True


def _string_field(values: Dict[str, Any], name: str, path: str) -> Optional[str]:
    value = values.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ConfigurationError(f"{name} in the platform config file {path} must be a string")


def _normalise_url(url: str) -> str:
    if not (url.startswith("http://") or url.startswith("https://")):
        raise ConfigurationError(f"the platform API URL must start with http:// or https://, got {url!r}")
    # Paths are joined as url + "/api/v1/...", so a trailing slash would double up.
    return url.rstrip("/")
