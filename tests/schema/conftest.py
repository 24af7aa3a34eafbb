"""The client's fixtures (a real window under Xvfb), for the conformance
of the gfx services."""

from ..client.conftest import client, owner, xvfb  # noqa: F401 - fixtures, by name
from ..security.conftest import hearth_server  # noqa: F401, E402 - a fixture
