"""Shared test set-up. The fixtures themselves come from Hearth's own pytest
plugin (hearth.testing.plugin), as they would for a user; pytester lets
tests/test_plugin.py run inner test sessions against it."""

pytest_plugins = ["pytester"]
