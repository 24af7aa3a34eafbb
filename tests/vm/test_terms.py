"""`hearth.vm._terms.measure`: the shape of msgpack data read from its
bytes, before it is unpacked; here its limit on compound map keys."""

import msgpack
import pytest

from hearth import otp
from hearth.vm._terms import MAX_COMPOUND_KEYS, TermTooBig, measure


def _packed(term):
    return msgpack.packb(term, use_bin_type=True)


def test_up_to_the_limit_of_tuple_keys_a_term_is_measured_and_decodes():
    term = {(i, i + 1): i for i in range(MAX_COMPOUND_KEYS)}
    data = _packed(term)
    assert measure(data) == (1 + 4 * MAX_COMPOUND_KEYS, 2)
    assert otp.decode(data) == term


def test_one_tuple_key_past_the_limit_is_refused_in_all_maps_together():
    # Two maps of 129 and 128: 257 in all.
    term = [{(i, 0): 0 for i in range(129)}, {(i, 1): 0 for i in range(128)}]
    with pytest.raises(TermTooBig, match="more than 256 map keys that are arrays"):
        measure(_packed(term))
    with pytest.raises(otp.DecodeError):
        otp.decode(_packed(term))


def test_map_and_ext_keys_count_and_arrays_as_values_do_not():
    with pytest.raises(TermTooBig):
        measure(_packed({msgpack.ExtType(5, bytes([i % 256, i // 256])): 0
                         for i in range(MAX_COMPOUND_KEYS + 1)}))
    # Arrays as values, and str, bytes and int keys, are not limited.
    many = {f"k{i}": [i, i] for i in range(5 * MAX_COMPOUND_KEYS)}
    many.update({i: (i,) for i in range(5 * MAX_COMPOUND_KEYS)})
    n = 5 * MAX_COMPOUND_KEYS
    # the map, its 2n keys and 2n array values, and the 2n + n ints in those
    assert measure(_packed(many))[0] == 1 + 2 * n + 2 * n + 3 * n
