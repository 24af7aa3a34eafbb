"""hearth.Window on a real window: pygame input events posted to the
window reach subscribers as window events; subscriptions end with their
subscriber; the close button calls on_close."""

import math

import numpy as np
import pygame
import pytest

from hearth import vm
from hearth.native._service import INVALID_REQUEST, PERMISSION_DENIED, request
from hearth.otp import ServiceError, decode


@pytest.fixture
def events(client):
    """A mailbox of the test's subscribed to the window, and a reader of
    its next event of a kind."""
    mb = vm.create_mailbox()
    assert request(client.window, ["subscribe", mb.make_capability(vm.SEND | vm.MONITOR)])

    def next_event(kind):
        for _ in range(10_000):  # redraws come every frame; skip them
            sig = mb.recv(timeout=5)
            assert sig is not None, f"no {kind} event"
            event = decode(sig.data)
            if event["event"] == kind:
                return event
        pytest.fail(f"no {kind} event among 10,000")

    return next_event


def test_a_posted_key_press_reaches_a_subscriber(events):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_a, mod=pygame.KMOD_LSHIFT,
                                         scancode=4, unicode="A"))
    event = events("keyboard_input")
    assert event["key"] == "a" and event["state"] == "pressed" and event["scancode"] == 4
    assert event["modifiers"] == {"shift": True, "ctrl": False, "alt": False, "logo": False}
    assert events("modifiers_changed")["modifiers"]["shift"] is True


def test_posted_mouse_and_text_events_reach_a_subscriber(events):
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(10, 20), rel=(3, -4),
                                         buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(10, 20), button=3))
    pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False))
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="hé"))
    pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSLOST))
    assert events("cursor_moved") == {"event": "cursor_moved", "x": 10.0, "y": 20.0}
    assert events("mouse_motion") == {"event": "mouse_motion", "dx": 3.0, "dy": -4.0}
    assert events("mouse_input") == {"event": "mouse_input", "button": "right",
                                     "state": "pressed"}
    assert events("mouse_wheel") == {"event": "mouse_wheel", "dx": 0.0, "dy": -1.0}
    assert events("received_character")["char"] == "h"
    assert events("received_character")["char"] == "é"
    assert events("focused") == {"event": "focused", "focused": False}


def test_redraw_events_carry_the_time_since_the_last_frame(events):
    dts = [events("redraw")["dt"] for _ in range(3)]
    assert all(0.0 <= dt < 5.0 for dt in dts) and dts[-1] > 0.0


def test_a_subscriber_that_dies_is_dropped(client):
    def subscriber(window, parent):
        request(window, ["subscribe", vm.make_capability(vm.SEND | vm.MONITOR)])
        parent.send(b"subscribed")

    _, ref = vm.spawn_monitor(subscriber, client.window, vm.make_capability(vm.SEND))
    assert vm.recv(timeout=5).data == b"subscribed"
    assert vm.recv(timeout=5).ref == ref
    for _ in range(100):  # the window sees the Down between two frames
        if request(client.window, "stats")["subscribers"] == 0:
            break
        client.screenshot()
    assert request(client.window, "stats")["subscribers"] == 0


def test_unsubscribe_ends_the_events(client):
    mb = vm.create_mailbox()
    cap = mb.make_capability(vm.SEND | vm.MONITOR)
    assert request(client.window, ["subscribe", cap]) is True
    assert request(client.window, ["subscribe", cap]) is False
    assert request(client.window, ["unsubscribe", cap]) is True
    assert request(client.window, ["unsubscribe", cap]) is False
    while mb.try_recv() is not None:
        pass
    client.screenshot()
    assert mb.try_recv() is None


def test_a_subscriber_without_monitor_is_refused(client):
    with pytest.raises(ServiceError) as info:
        request(client.window, ["subscribe", vm.make_capability(vm.SEND)])
    assert info.value.kind == PERMISSION_DENIED


@pytest.mark.parametrize("term", [
    ["set_camera", 60.0, 0.1, [math.nan] * 16],
    ["set_camera", 0.0, 0.1, [0.0] * 16],
    ["set_camera", 60.0, -1.0, [0.0] * 16],
    ["set_title", 5],
    ["set_cursor_grab", "glued"],
    ["set_cursor_visible", "yes"],
], ids=["nan-view", "zero-fov", "negative-near", "int-title", "unknown-grab", "str-visible"])
def test_bad_window_requests_get_an_error_and_the_frame_is_unchanged(client, term):
    before = client.screenshot()
    with pytest.raises(ServiceError) as info:
        request(client.window, term)
    assert info.value.kind == INVALID_REQUEST
    assert np.array_equal(client.screenshot(), before)


def test_title_cursor_and_grab_requests_are_applied(client):
    request(client.window, ["set_title", "a world"])
    assert pygame.display.get_caption()[0] == "a world"
    request(client.window, ["set_cursor_grab", "confined"])
    assert pygame.event.get_grab()
    request(client.window, ["set_cursor_grab", "none"])
    request(client.window, ["set_cursor_visible", False])
    assert not pygame.mouse.get_visible()
    request(client.window, ["set_cursor_visible", True])


def test_the_close_button_tells_subscribers_and_calls_on_close(client, events):
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert events("close_requested") == {"event": "close_requested"}
    client.screenshot()  # the frame that saw the close button has ended
    assert client.closed == [True]


@pytest.mark.parametrize("client", [None, 100_000.0], indirect=True,
                         ids=["as-fast-as-it-can", "period-shorter-than-a-frame"])
def test_other_processes_keep_running_between_frames(client):
    def echo():
        while True:
            msg = vm.recv()
            msg.caps[0].send(msg.data)
            msg.caps[0].release()

    peer = vm.spawn(echo, name="echo")
    me = vm.make_capability(vm.SEND)
    before = request(client.window, "stats")["frames"]
    for i in range(2000):  # each round trip needs the frame loop to yield
        peer.send(b"%d" % i, [me])
        assert vm.recv(timeout=5).data == b"%d" % i
    assert request(client.window, "stats")["frames"] > before
    peer.kill()


def test_a_screenshot_of_a_closed_window_is_refused(client):
    client.display.close()
    with pytest.raises(ServiceError) as info:
        request(client.window, "screenshot")
    assert info.value.kind == "closed"
    assert request(client.window, "stats")["frames"] >= 0  # still serving
