"""The suite's workloads in PyTorch (eager, float32, CPU).

Each WORKLOADS entry builds its inputs and returns the function to time;
the same computations as Theta's benchmarks (see the suite's workloads.cc).
"""
import torch
import torch.nn.functional as F


def version():
    return torch.__version__


def detail():
    blas = "MKL" if torch.backends.mkl.is_available() else "BLAS"
    dnn = " + oneDNN" if torch.backends.mkldnn.is_available() else ""
    return (f"{blas}{dnn}, CPU capability "
            f"{torch.backends.cpu.get_cpu_capability()}")


def set_threads(n):
    torch.set_num_threads(n)
    torch.manual_seed(1)


def softmax(rows, cols):
    x = torch.rand(rows, cols) * 2 - 1

    def call():
        with torch.inference_mode():
            return torch.softmax(x, dim=1)
    return call


def training_step(model, inputs, labels, lr=0.01):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def call():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss
    return call


def softmax_regression_step():
    model = torch.nn.Linear(784, 10)
    return training_step(model, torch.rand(256, 784) * 2 - 1,
                         torch.randint(0, 10, (256,)))


def mlp_step():
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    return training_step(model, torch.rand(256, 784) * 2 - 1,
                         torch.randint(0, 10, (256,)))


class LstmClassifier(torch.nn.Module):
    """nn.LSTM over (T, B, I), Linear(H, 128) on every step."""

    def __init__(self, inputs, hidden):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, hidden)
        self.head = torch.nn.Linear(hidden, 128)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out.reshape(-1, out.shape[-1]))


def lstm_step(t, b, i, h):
    x = torch.rand(t, b, i) * 2 - 1
    y = torch.randint(0, 128, (t * b,))
    return training_step(LstmClassifier(i, h), x, y)


def rnn_fwd_grad():
    a = (torch.rand(64, 64) * 2 - 1).requires_grad_()
    b = (torch.rand(64) * 2 - 1).requires_grad_()

    def call():
        x = torch.zeros(1, 64)
        for _ in range(1000):
            x = torch.tanh(x @ a + b)
        return torch.autograd.grad(x.sum(), [a, b])
    return call


FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_IMAGES = 0  # set by run_peer.py; 0: the whole training set


def fashion_mnist_lstm_epoch():
    """One epoch of train_fashion_mnist's LSTM with its default settings
    (fashion_mnist_accuracy.py mirrors them): seconds per training image."""
    import fashion_mnist_accuracy
    images, labels = fashion_mnist_accuracy.load(FASHION_MNIST_DIR, "train")
    if FASHION_MNIST_IMAGES > 0:
        images = images[:FASHION_MNIST_IMAGES]
        labels = labels[:FASHION_MNIST_IMAGES]
    _, seconds, trained = fashion_mnist_accuracy.train(
        "lstm", (images, labels), epochs=1)
    return seconds / trained


WORKLOADS = {
    "softmax_20x16": lambda: softmax(20, 16),
    "softmax_256x1000": lambda: softmax(256, 1000),
    "softmax_4096x1024": lambda: softmax(4096, 1024),
    "softmax_regression_step": softmax_regression_step,
    "mlp_step": mlp_step,
    "lstm_step_s": lambda: lstm_step(50, 32, 128, 256),
    "lstm_step_l": lambda: lstm_step(100, 64, 256, 512),
    "rnn_fwd_grad": rnn_fwd_grad,
    "fashion_mnist_lstm_epoch": fashion_mnist_lstm_epoch,
}
