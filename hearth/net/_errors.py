"""Errors of the network layer."""

from __future__ import annotations

from hearth.vm import HearthError

__all__ = ["NetError", "ConnectError", "AuthError", "AddressInUse"]


class NetError(HearthError):
    """Something about a connection to a peer."""


class ConnectError(NetError):
    """Could not connect: nothing listens there, the address is wrong, or
    the peer went away during the handshake."""


class AuthError(ConnectError):
    """The handshake failed: a wrong secret, or not a Hearth peer."""


class AddressInUse(NetError):
    """Another live runtime already listens at this address."""
