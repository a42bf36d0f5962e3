#!/usr/bin/env python3
"""Writes the seed corpus of every shadow-model fuzz target.

Each seed is a short operation sequence in the interpreter's encoding
(shadow_model.cc): an op byte (mod 16: 0-5 allocate, 6-8 free, 9-10
reallocate, 11 resize, 12 mark/rewind, 13 reset, 14 trim, 15 collect)
followed by its operands. Seeds are deterministic; run from the repository
root: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

TARGETS = ["frame_fuzz", "stack_fuzz", "pool_fuzz", "pool_concurrent_fuzz", "small_object_fuzz",
           "tlsf_fuzz", "tlsf_virtual_fuzz", "partition_fuzz", "huge_page_fuzz", "fallback_fuzz", "debug_stack_fuzz",
           "leak_stack_fuzz"]
THREADED = {"small_object_fuzz"}  # allocations carry a thread byte too


def alloc(target, kind, word, align, thread=0):
    out = bytes([0, kind]) + struct.pack("<H", word) + bytes([align])
    return out + (bytes([thread]) if target in THREADED else b"")


def free(index, thread=0):
    return bytes([6, index, thread])


def realloc(index, kind, word):
    return bytes([9, index, kind]) + struct.pack("<H", word)


def resize(index, kind, word):
    return bytes([11, index, kind]) + struct.pack("<H", word)


def seeds(target):
    small = [alloc(target, 3, 24 + 40 * i, i % 5, i % 3) for i in range(8)]
    yield "small_blocks", b"".join(small)
    yield "alloc_free_mix", b"".join(small[:4] + [free(1, 1), free(0, 2)] + small[4:] + [free(3, 0), free(2, 1)])
    yield "grow_and_shrink", b"".join(small[:3] + [realloc(0, 8, 2000), resize(1, 2, 8), realloc(2, 0, 0),
                                                   realloc(0, 3, 16)])
    # Zero size, above-typical, huge, over-aligned, non-power-of-two and overflowing requests.
    yield "edge_requests", b"".join([alloc(target, 0, 0, 0), alloc(target, 13, 500, 2), alloc(target, 15, 7, 1),
                                     alloc(target, 3, 64, 230), alloc(target, 3, 64, 200),
                                     alloc(target, 3, 64, 246), alloc(target, 3, 64, 253), free(0)])
    yield "markers_and_reset", b"".join(small[:2] + [bytes([12, 0])] + small[2:5] + [bytes([12, 200]), free(0)] +
                                        small[5:] + [bytes([13]), bytes([14]), bytes([15])] + small[:2])
    # Shrunk and grown in place, then freed with the size asked of resize or
    # the one it returned: every decorator must accept both.
    large = [alloc(target, 8, 2000 + 100 * i, 1) for i in range(4)]
    yield "resize_then_free", b"".join(large + [resize(i, 2, 8 + i) for i in range(4)] + [resize(0, 8, 1900)] +
                                       [free(0) for _ in range(4)])
    yield "remote_frees", b"".join(small + [free(i % 5, 1 + i % 2) for i in range(6)] + [bytes([15])] + small)


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for target in TARGETS:
        directory = os.path.join(root, target)
        os.makedirs(directory, exist_ok=True)
        for name, data in seeds(target):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
