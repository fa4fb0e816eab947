#!/usr/bin/env python3
"""Writes the seed corpus of idx_fuzzer.cc into fuzz/corpus/idx.

Each seed is an input of the harness: one mode byte (0: parse the rest as it
is, 1: gzip it first), then the bytes of an IDX file. Run from fuzz/:
  python3 make_idx_seeds.py
"""
import gzip
import os
import struct


def idx(dims, data):
    header = bytes([0, 0, 8, len(dims)])
    return header + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


SEEDS = {
    "vector_3": idx([3], [1, 2, 3]),
    "images_2x2x2": idx([2, 2, 2], range(8)),
    "rank0": idx([], []),
    "zero_dim": idx([0, 5], []),
    "truncated_data": idx([4], [1, 2]),
    "trailing_bytes": idx([2], [1, 2, 3, 4]),
    # Four dims of 65536: their product overflows 64 bits (was a heap
    # overflow before the dims were checked).
    "overflowing_dims": bytes([0, 0, 8, 4]) + struct.pack(">IIII", *[65536] * 4),
    "float_type": bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1) + b"\0" * 4,
    "bad_magic": b"\x1f\x8b\x00",
}
GZIPPED = {
    "images_2x2x2.gz": gzip.compress(idx([2, 2, 2], range(8)), mtime=0),
    "bad_magic_inside.gz": gzip.compress(b"\x01\x02\x03\x04" + b"\0" * 64, mtime=0),
    "truncated.gz": gzip.compress(idx([16], range(16)), mtime=0)[:20],
    # Declares 2^30 bytes but holds 16: inflation must stop at the header.
    "declares_more_than_it_holds.gz": gzip.compress(
        idx([1 << 30], range(16)), mtime=0),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "idx")
os.makedirs(out, exist_ok=True)
for name, body in SEEDS.items():
    open(os.path.join(out, "raw_" + name), "wb").write(b"\0" + body)
    open(os.path.join(out, "gzip_first_" + name), "wb").write(b"\1" + body)
for name, body in GZIPPED.items():
    open(os.path.join(out, "raw_" + name), "wb").write(b"\0" + body)
