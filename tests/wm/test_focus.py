"""Keyboard focus in hearth.Window on a real window: the holder alone hears
the keyboard, subscribers keep hearing the rest, a second focus replaces
the first (focus_lost), unfocus and the holder's death give the keyboard
back, and whoever loses it hears its held keys released."""

import pygame
import pytest

from hearth import vm
from hearth.native._service import INVALID_REQUEST, PERMISSION_DENIED, request
from hearth.otp import ServiceError, decode


class Listener:
    """A mailbox of the test's and a reader of its window events."""

    def __init__(self):
        self.mb = vm.create_mailbox()
        self.cap = self.mb.make_capability(vm.SEND | vm.MONITOR)

    def kinds(self, client, frames=3):
        """The non-redraw events that came within the next `frames` frames."""
        for _ in range(frames):
            client.screenshot()
        out = []
        while (sig := self.mb.try_recv()) is not None:
            event = decode(sig.data)
            if event["event"] != "redraw":
                out.append(event)
        return out


def _key(kind, key, mod=0):
    pygame.event.post(pygame.event.Event(kind, key=key, mod=mod, scancode=0, unicode=""))


@pytest.fixture
def two(client):
    sub, holder = Listener(), Listener()
    assert request(client.window, ["subscribe", sub.cap])
    return sub, holder


def test_the_focus_holder_alone_hears_the_keyboard_and_all_hear_the_mouse(client, two):
    sub, holder = two
    assert request(client.window, ["focus", holder.cap]) is True
    assert request(client.window, "focus_holder") is True
    _key(pygame.KEYDOWN, pygame.K_w)
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="w"))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(5, 5)))
    got_holder = [e["event"] for e in holder.kinds(client)]
    got_sub = [e["event"] for e in sub.kinds(client)]
    assert "keyboard_input" in got_holder and "received_character" in got_holder
    assert "mouse_input" not in got_holder  # the holder is not subscribed
    assert "keyboard_input" not in got_sub and "received_character" not in got_sub
    assert "mouse_input" in got_sub
    _key(pygame.KEYUP, pygame.K_w)
    assert [e["state"] for e in holder.kinds(client)] == ["released"]
    # Given back: the subscriber hears keys again, the holder does not.
    assert request(client.window, ["unfocus", holder.cap]) is True
    assert request(client.window, ["unfocus", holder.cap]) is False
    assert request(client.window, "focus_holder") is False
    holder.kinds(client)
    _key(pygame.KEYDOWN, pygame.K_a)
    assert [e["key"] for e in sub.kinds(client) if e["event"] == "keyboard_input"] == ["a"]
    assert not [e for e in holder.kinds(client) if e["event"] == "keyboard_input"]
    _key(pygame.KEYUP, pygame.K_a)


def test_taking_the_keyboard_releases_held_keys_for_those_who_lose_it(client, two):
    sub, holder = two
    _key(pygame.KEYDOWN, pygame.K_w)
    assert [e["state"] for e in sub.kinds(client) if e["event"] == "keyboard_input"] == [
        "pressed"]
    request(client.window, ["focus", holder.cap])
    released = [e for e in sub.kinds(client) if e["event"] == "keyboard_input"]
    assert [(e["key"], e["state"]) for e in released] == [("w", "released")]
    # The holder gives it back while W is still down: it hears the release.
    request(client.window, ["unfocus", holder.cap])
    assert [(e["key"], e["state"]) for e in holder.kinds(client)
            if e["event"] == "keyboard_input"] == [("w", "released")]
    _key(pygame.KEYUP, pygame.K_w)


def test_a_second_focus_replaces_the_first_which_hears_focus_lost(client, two):
    _, first = two
    second = Listener()
    request(client.window, ["focus", first.cap])
    assert request(client.window, ["focus", first.cap]) is True  # again: no change
    request(client.window, ["focus", second.cap])
    assert [e["event"] for e in first.kinds(client)] == ["focus_lost"]
    _key(pygame.KEYDOWN, pygame.K_q)
    assert [e["event"] for e in second.kinds(client)][:1] == ["keyboard_input"]
    assert not first.kinds(client)
    assert request(client.window, ["unfocus", first.cap]) is False  # not the holder
    _key(pygame.KEYUP, pygame.K_q)


def test_the_holders_death_gives_the_keyboard_back(client, two):
    sub, _ = two

    def holder(window, parent):
        request(window, ["focus", vm.make_capability(vm.SEND | vm.MONITOR)])
        parent.send(b"focused")

    _, ref = vm.spawn_monitor(holder, client.window, vm.make_capability(vm.SEND))
    assert vm.recv(timeout=5).data == b"focused"
    down = vm.recv(timeout=5)
    assert down.ref == ref
    down.cap.release()
    for _ in range(100):  # the window sees the Down between two frames
        if request(client.window, "focus_holder") is False:
            break
        client.screenshot()
    assert request(client.window, "focus_holder") is False
    sub.kinds(client)
    _key(pygame.KEYDOWN, pygame.K_e)
    assert [e["key"] for e in sub.kinds(client) if e["event"] == "keyboard_input"] == ["e"]
    _key(pygame.KEYUP, pygame.K_e)


def test_bad_focus_requests_are_refused_and_change_nothing(client):
    with pytest.raises(ServiceError) as e:
        request(client.window, ["focus", 3])
    assert e.value.kind == INVALID_REQUEST
    with pytest.raises(ServiceError) as e:
        request(client.window, ["focus", vm.make_capability(vm.SEND)])
    assert e.value.kind == PERMISSION_DENIED and "SEND and MONITOR" in e.value.message
    assert request(client.window, "focus_holder") is False
