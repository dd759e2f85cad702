"""Tests for platformsdk; run with ``python3 -m unittest discover -s tests`` from Notebook/sdk."""
