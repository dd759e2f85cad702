"""Lets ``python3 -m platformsdk ...`` work where the ``plat`` script is not installed."""

import sys

from .cli import main

sys.exit(main())
