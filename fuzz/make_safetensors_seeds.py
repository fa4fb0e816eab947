#!/usr/bin/env python3
"""Writes the seed corpus of safetensors_fuzzer.cc into fuzz/corpus/safetensors.

Each seed is a whole safetensors file: valid small files of every dtype
Theta reads, and files broken the ways a truncated or corrupted checkpoint
is (truncated, bad header length, bad offsets, bad dtypes, bad JSON). Run
from anywhere:
  python3 fuzz/make_safetensors_seeds.py
"""
import json
import os
import struct


def file(header, data=b"", pad=True):
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:  # the writer pads the header with spaces to 8 bytes
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tensor(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


W = struct.pack("<6f", *range(6))
B = struct.pack("<2d", 0.5, -1.5)
VALID = file({"W": tensor("F32", [2, 3], 0, 24),
              "b": tensor("F64", [2], 24, 40),
              "__metadata__": {"step": "7", "format": "theta"}}, W + B)

SEEDS = {
    "valid_two_tensors": VALID,
    "valid_every_dtype": file({
        "f32": tensor("F32", [1], 0, 4),
        "f64": tensor("F64", [1], 4, 12),
        "i32": tensor("I32", [1], 12, 16),
        "i64": tensor("I64", [1], 16, 24),
        "u8": tensor("U8", [2], 24, 26),
        "bool": tensor("BOOL", [2], 26, 28),
    }, bytes(range(28))),
    "valid_scalar_and_empty": file({
        "s": tensor("F32", [], 0, 4),
        "e": tensor("F32", [0, 3], 4, 4),
    }, b"\0\0\x80\x3f"),
    "valid_no_tensors": file({}),
    "valid_metadata_only": file({"__metadata__": {"a": "b"}}),
    "valid_unpadded": file({"x": tensor("U8", [3], 0, 3)}, b"abc", pad=False),
    # Truncated files.
    "empty": b"",
    "short_length": b"\x10\0\0",
    "truncated_header": VALID[:20],
    "truncated_data": VALID[:-5],
    # Header lengths.
    "length_past_end": struct.pack("<Q", 1 << 20) + b"{}",
    "length_over_limit": struct.pack("<Q", 200_000_000) + b"{}",
    "length_huge": struct.pack("<Q", (1 << 64) - 1) + b"{}",
    "length_zero": struct.pack("<Q", 0),
    "length_one": struct.pack("<Q", 1) + b"{",
    # Offsets.
    "offsets_past_end": file({"x": tensor("F32", [2], 0, 800)}, bytes(8)),
    "offsets_reversed": file({"x": tensor("F32", [2], 8, 0)}, bytes(8)),
    "offsets_wrong_size": file({"x": tensor("F32", [2], 0, 4)}, bytes(8)),
    "offsets_overlap": file({"x": tensor("F32", [2], 0, 8),
                             "y": tensor("F32", [1], 4, 8)}, bytes(8)),
    "offsets_gap": file({"x": tensor("F32", [1], 4, 8)}, bytes(8)),
    "offsets_three": file({"x": {"dtype": "F32", "shape": [1],
                                 "data_offsets": [0, 4, 8]}}, bytes(8)),
    "offsets_negative": file({"x": tensor("F32", [1], -4, 0)}, bytes(4)),
    "offsets_huge": file({"x": tensor("U8", [1], (1 << 64) - 1, (1 << 64) - 1)},
                         bytes(1)),
    "trailing_data": file({"x": tensor("U8", [1], 0, 1)}, bytes(9)),
    # Shapes.
    "shape_overflow": file({"x": tensor("F64", [1 << 62, 1 << 62], 0, 8)},
                           bytes(8)),
    "shape_zero_times_huge": file({"x": tensor("F32", [0, 1 << 62, 1 << 62],
                                               0, 0)}),
    "shape_rank_9": file({"x": tensor("U8", [1] * 9, 0, 1)}, bytes(1)),
    "shape_float": file({"x": tensor("U8", [1.5], 0, 1)}, bytes(1)),
    "shape_string": file({"x": tensor("U8", "2", 0, 2)}, bytes(2)),
    # Dtypes.
    "dtype_bf16": file({"x": tensor("BF16", [1], 0, 2)}, bytes(2)),
    "dtype_lowercase": file({"x": tensor("f32", [1], 0, 4)}, bytes(4)),
    "dtype_number": file({"x": tensor(7, [1], 0, 4)}, bytes(4)),
    "dtype_missing": file({"x": {"shape": [1], "data_offsets": [0, 4]}},
                          bytes(4)),
    # JSON.
    "json_not_object": file([1, 2, 3]),
    "json_bad": struct.pack("<Q", 8) + b'{"x": [1',
    "json_entry_not_object": file({"x": 3}),
    "json_metadata_not_strings": file({"__metadata__": {"a": 1}}),
    "json_metadata_not_object": file({"__metadata__": [1]}),
    "json_deep": struct.pack("<Q", 4000) + b"[" * 2000 + b"]" * 2000,
    "json_duplicate_keys": (lambda t: struct.pack("<Q", len(t)) + t + bytes(4))(
        b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "safetensors")
os.makedirs(out, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(body)
