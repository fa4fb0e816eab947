"""Theta's three Fashion-MNIST programs in PyTorch, for the accuracy check.

The same models, initialisation, optimizers, batch size, epochs and data as
train_softmax_regression, train_mlp and train_fashion_mnist's defaults
(models/fashion_mnist_models.cc: DefaultsOf), trained on the full data set
and evaluated on its 10,000 test images. The LSTM standardises its input
with Fashion-MNIST's pixel mean and standard deviation and follows a cosine
learning-rate schedule from 3e-3 to 0 over its 3 epochs, as Theta's
(optim::cosine_decay, the rate of step t set before step t). PyTorch
shuffles and initialises with its own generator, so the batch order and
initial weights differ from Theta's; the accuracy should agree within about
half a point.

  python benchmarks/peers/fashion_mnist_accuracy.py \
      [--data_dir=/usr/share/datasets/fashion-mnist] [--models=softmax,mlp,lstm]
      [--threads=1] [--seed=1]
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, prefix):
    images = load_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = load_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.tensor(images.reshape(len(images), 784), dtype=torch.float32) / 255
    return x, torch.tensor(labels, dtype=torch.int64)


def glorot_(w, fan_in, fan_out):
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    torch.nn.init.uniform_(w, -limit, limit)


def dense(fan_in, fan_out, he=False):
    layer = torch.nn.Linear(fan_in, fan_out)
    with torch.no_grad():
        if he:
            torch.nn.init.normal_(layer.weight, 0.0, (2.0 / fan_in) ** 0.5)
        else:
            glorot_(layer.weight, fan_in, fan_out)
        layer.bias.zero_()
    return layer


PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530  # kFashionMnistPixelMean, ...Std


class LstmClassifier(torch.nn.Module):
    """Theta's LstmClassifier: W Glorot, U orthogonal blocks, forget bias 1,
    the input standardised first."""

    def __init__(self, hidden=128):
        super().__init__()
        self.lstm = torch.nn.LSTM(28, hidden)
        h = hidden
        with torch.no_grad():
            glorot_(self.lstm.weight_ih_l0, 28, 4 * h)
            for k in range(4):
                torch.nn.init.orthogonal_(self.lstm.weight_hh_l0[k * h:(k + 1) * h])
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_ih_l0[h:2 * h] = 1.0  # PyTorch's order: i, f, g, o
        self.out = dense(h, 10)

    def forward(self, x):  # x: (samples, 784) -> (28 rows, samples, 28)
        rows = ((x - PIXEL_MEAN) / PIXEL_STD).view(-1, 28, 28).transpose(0, 1)
        _, (h, _) = self.lstm(rows)
        return self.out(h[-1])


# Each program's defaults: model, optimizer, learning rate, schedule, epochs.
CONFIGS = {
    "softmax": (lambda: dense(784, 10), "adam", 1e-3, "constant", 10),
    "mlp": (lambda: torch.nn.Sequential(dense(784, 512, he=True),
                                        torch.nn.ReLU(), dense(512, 10)),
            "adam", 1e-3, "constant", 10),
    "lstm": (LstmClassifier, "adam", 3e-3, "cosine", 3),
}


def rate(lr, schedule, step, total):
    """optim::constant_rate or optim::cosine_decay(lr, total) at `step`."""
    if schedule == "cosine":
        return lr * (1 + math.cos(math.pi * min(step, total) / total)) / 2
    return lr


def train(name, train_set, epochs=None, batch=64, seed=1):
    """Trains CONFIGS[name] (for its own epochs unless given) on train_set;
    returns the model, the seconds spent training and the images trained."""
    build, optimizer_name, lr, schedule, default_epochs = CONFIGS[name]
    epochs = epochs or default_epochs
    torch.manual_seed(seed)
    model = build()
    if optimizer_name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:  # v <- 0.9 v + g, p <- p - lr v: Lasagne's momentum for a fixed lr
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = train_set
    steps = len(y) // batch
    start = time.time()
    for epoch in range(epochs):
        order = torch.randperm(len(y))
        for s in range(steps):
            for group in opt.param_groups:
                group["lr"] = rate(lr, schedule, epoch * steps + s,
                                   epochs * steps)
            idx = order[s * batch:(s + 1) * batch]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model, time.time() - start, epochs * steps * batch


def run(name, train_set, test, seed=1):
    model, seconds, _ = train(name, train_set, seed=seed)
    epochs = CONFIGS[name][4]
    with torch.no_grad():
        accuracy = (model(test[0]).argmax(1) == test[1]).float().mean().item()
    print(f"{name}: test accuracy {100 * accuracy:.2f}% after {epochs} epochs "
          f"({seconds:.0f} s training, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--models", default="softmax,mlp,lstm")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, test = load(args.data_dir, "train"), load(args.data_dir, "t10k")
    for name in args.models.split(","):
        run(name, train, test, seed=args.seed)


if __name__ == "__main__":
    main()
