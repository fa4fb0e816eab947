#!/usr/bin/env python3
"""Writes pytorch_lstm.safetensors, the fixture of //models:checkpoint_test.

A small LSTM classifier's parameters under PyTorch's names (torch.nn.LSTM,
torch.nn.Linear), written by Python's `safetensors` package, so that the test
checks Theta reads files that package writes. Element k (row-major) of the
tensor with index t in NAMES holds (t + 1) + k / 64, exactly representable
in float32; the test computes the same values.

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy
    /tmp/stvenv/bin/python models/testdata/make_pytorch_fixture.py
"""
import os

import numpy as np
from safetensors.numpy import save_file

INPUT, HIDDEN, CLASSES = 3, 4, 2
NAMES = [
    ("lstm.weight_ih_l0", (4 * HIDDEN, INPUT)),
    ("lstm.weight_hh_l0", (4 * HIDDEN, HIDDEN)),
    ("lstm.bias_ih_l0", (4 * HIDDEN,)),
    ("lstm.bias_hh_l0", (4 * HIDDEN,)),
    ("fc.weight", (CLASSES, HIDDEN)),
    ("fc.bias", (CLASSES,)),
]


def main():
    tensors = {}
    for t, (name, shape) in enumerate(NAMES):
        count = int(np.prod(shape))
        values = (t + 1) + np.arange(count, dtype=np.float64) / 64
        tensors[name] = values.astype(np.float32).reshape(shape)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "pytorch_lstm.safetensors")
    save_file(tensors, out, metadata={"format": "pt"})
    print(out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
