"""The window manager's tests run on the client's real window (Xvfb), as
tests/client do: the same fixtures."""

from tests.client.conftest import client, owner, xvfb  # noqa: F401 - fixtures
