"""Configuration precedence: arguments, then environment, then the config file."""

import os
import unittest

try:
    from . import support
except ImportError:  # started with tests/ as the top-level directory
    import support

from platformsdk import Client, ConfigurationError, load_config
from platformsdk.config import default_config_path


class ConfigPrecedenceTests(support.IsolatedTestCase):
    def test_arguments_win_over_environment_and_file(self) -> None:
        self.write_config({"api_url": "http://file:1", "api_key": "plat_file"})
        os.environ.update(PLATFORM_API_URL="http://env:2", PLATFORM_API_KEY="plat_env")
        config = load_config(api_url="http://arg:3", api_key="plat_arg")
        self.assertEqual(config.api_url, "http://arg:3")
        self.assertEqual(config.api_key, "plat_arg")

    def test_environment_wins_over_file(self) -> None:
        self.write_config({"api_url": "http://file:1", "api_key": "plat_file"})
        os.environ.update(PLATFORM_API_URL="http://env:2", PLATFORM_API_KEY="plat_env")
        config = load_config()
        self.assertEqual((config.api_url, config.api_key), ("http://env:2", "plat_env"))

    def test_default_file_is_used_and_extra_keys_ignored(self) -> None:
        path = self.write_config({"api_url": "http://file:1", "api_key": "plat_file", "account": "Research"})
        self.assertEqual(path, os.path.join(self.home, ".config", "platform", "config.json"))
        self.assertEqual(default_config_path(), path)
        config = load_config()
        self.assertEqual((config.api_url, config.api_key, config.config_path), ("http://file:1", "plat_file", path))

    def test_each_field_is_resolved_on_its_own(self) -> None:
        self.write_config({"api_url": "http://file:1", "api_key": "plat_file"})
        os.environ["PLATFORM_API_URL"] = "http://env:2"
        config = load_config(api_key="plat_arg")
        self.assertEqual((config.api_url, config.api_key), ("http://env:2", "plat_arg"))
        config = load_config()
        self.assertEqual((config.api_url, config.api_key), ("http://env:2", "plat_file"))

    def test_platform_config_variable_replaces_default_path(self) -> None:
        self.write_config({"api_url": "http://default:1", "api_key": "plat_default"})
        other = self.write_config({"api_url": "http://other:1", "api_key": "plat_other"},
                                  os.path.join(self.home, "elsewhere", "platform.json"))
        os.environ["PLATFORM_CONFIG"] = other
        config = load_config()
        self.assertEqual((config.api_url, config.api_key, config.config_path), ("http://other:1", "plat_other", other))

    def test_explicit_config_path_replaces_platform_config(self) -> None:
        env_file = self.write_config({"api_url": "http://envfile:1", "api_key": "plat_envfile"},
                                     os.path.join(self.home, "env.json"))
        arg_file = self.write_config({"api_url": "http://argfile:1", "api_key": "plat_argfile"},
                                     os.path.join(self.home, "arg.json"))
        os.environ["PLATFORM_CONFIG"] = env_file
        config = load_config(config_path=arg_file)
        self.assertEqual(config.api_key, "plat_argfile")

    def test_empty_environment_values_count_as_unset(self) -> None:
        self.write_config({"api_url": "http://file:1", "api_key": "plat_file"})
        os.environ.update(PLATFORM_API_URL="", PLATFORM_API_KEY="  ")
        config = load_config()
        self.assertEqual((config.api_url, config.api_key), ("http://file:1", "plat_file"))

    def test_trailing_slash_is_stripped(self) -> None:
        self.assertEqual(load_config("http://host:5080/", "k").api_url, "http://host:5080")
        self.assertEqual(load_config("https://host/platform/", "k").api_url, "https://host/platform")

    def test_client_takes_its_configuration_from_the_environment(self) -> None:
        os.environ.update(PLATFORM_API_URL="http://env:2/", PLATFORM_API_KEY="plat_env")
        client = Client()
        self.assertEqual(client.api_url, "http://env:2")
        self.assertEqual(client.config.api_key, "plat_env")

    def test_key_never_shows_in_repr(self) -> None:
        client = Client("http://h:1", "plat_secret")
        self.assertNotIn("plat_secret", repr(client))
        self.assertNotIn("plat_secret", repr(client.config))


class ConfigErrorTests(support.IsolatedTestCase):
    def test_missing_everything_names_variables_and_path(self) -> None:
        with self.assertRaises(ConfigurationError) as caught:
            Client()
        message = str(caught.exception)
        expected_path = os.path.join(self.home, ".config", "platform", "config.json")
        self.assertIn("PLATFORM_API_URL", message)
        self.assertIn("PLATFORM_API_KEY", message)
        self.assertIn(expected_path, message)
        self.assertIn("not found", message)
        self.assertIn("API URL or access key", message)

    def test_missing_key_only_names_the_key(self) -> None:
        path = self.write_config({"api_url": "http://file:1"})
        with self.assertRaises(ConfigurationError) as caught:
            load_config()
        message = str(caught.exception)
        self.assertIn("no platform access key configured", message)
        self.assertIn(path, message)
        self.assertIn("(found;", message)

    def test_missing_url_names_platform_config_path(self) -> None:
        path = os.path.join(self.home, "custom.json")
        os.environ.update(PLATFORM_CONFIG=path, PLATFORM_API_KEY="plat_env")
        with self.assertRaises(ConfigurationError) as caught:
            load_config()
        self.assertIn("no platform API URL configured", str(caught.exception))
        self.assertIn(path, str(caught.exception))

    def test_invalid_json_names_the_file(self) -> None:
        path = self.write_config("{not json")
        with self.assertRaises(ConfigurationError) as caught:
            load_config()
        self.assertIn(f"the platform config file {path} is not valid JSON", str(caught.exception))

    def test_non_object_file_is_rejected(self) -> None:
        self.write_config(["http://file:1", "plat_file"])
        with self.assertRaisesRegex(ConfigurationError, "must hold a JSON object"):
            load_config()

    def test_non_string_value_is_rejected(self) -> None:
        self.write_config({"api_url": "http://file:1", "api_key": 12345})
        with self.assertRaisesRegex(ConfigurationError, "api_key in the platform config file .* must be a string"):
            load_config()

    def test_broken_file_is_ignored_when_environment_has_everything(self) -> None:
        self.write_config("{not json")
        os.environ.update(PLATFORM_API_URL="http://env:2", PLATFORM_API_KEY="plat_env")
        self.assertEqual(load_config().api_key, "plat_env")

    def test_url_without_scheme_is_rejected(self) -> None:
        with self.assertRaisesRegex(ConfigurationError, "must start with http:// or https://, got '127.0.0.1:5080'"):
            load_config("127.0.0.1:5080", "plat_x")


if __name__ == "__main__":
    unittest.main()
