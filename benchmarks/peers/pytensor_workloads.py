"""The suite's workloads in PyTensor (float32, its default mode).

Each WORKLOADS entry compiles its function and returns the call to time;
lstm_step_s_compile returns the seconds that building and compiling the
LSTM step S took (PyTensor's on-disk cache is warm after the first round).
"""
import time

import numpy as np
import pytensor
import pytensor.tensor as pt

FLOAT = "float32"
_compile_seconds = {}


def version():
    return pytensor.__version__


def detail():
    from pytensor.compile.mode import get_default_mode
    linker = type(get_default_mode().linker).__name__
    blas = pytensor.config.blas__ldflags.split(" -Wl")[0] or "none"
    return f"default mode, {linker}, blas: {blas}"


def set_threads(n):
    pass  # the suite sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS


def rng():
    return np.random.default_rng(1)


def uniform(shape, limit=1.0, seed=1):
    return np.random.default_rng(seed).uniform(-limit, limit, shape).astype(FLOAT)


def softmax(rows, cols):
    x = pt.matrix("x", dtype=FLOAT)
    f = pytensor.function([x], pt.special.softmax(x, axis=1))
    value = uniform((rows, cols))
    return lambda: f(value)


def cross_entropy(logits, labels):
    log_p = pt.special.log_softmax(logits, axis=1)
    return -pt.mean(log_p[pt.arange(labels.shape[0]), labels])


def sgd(cost, params, lr=0.01):
    grads = pytensor.grad(cost, params)
    return [(p, p - np.asarray(lr, FLOAT) * g) for p, g in zip(params, grads)]


def classifier_step(layers):
    """layers: [(fan_in, fan_out)]; relu between them."""
    x = pt.matrix("x", dtype=FLOAT)
    y = pt.ivector("y")
    params, h = [], x
    for k, (fan_in, fan_out) in enumerate(layers):
        w = pytensor.shared(uniform((fan_in, fan_out), 0.05, k + 1), f"w{k}")
        b = pytensor.shared(np.zeros(fan_out, FLOAT), f"b{k}")
        params += [w, b]
        h = pt.dot(h, w) + b
        if k + 1 < len(layers):
            h = pt.maximum(h, 0)
    cost = cross_entropy(h, y)
    f = pytensor.function([x, y], cost, updates=sgd(cost, params))
    xv = uniform((256, layers[0][0]), seed=3)
    yv = rng().integers(0, layers[-1][1], 256).astype("int32")
    return lambda: f(xv, yv)


def build_lstm_step(t, b, i, h):
    start = time.perf_counter()
    x = pt.tensor3("x", dtype=FLOAT)  # (T, B, I)
    y = pt.ivector("y")  # (T*B)
    w = pytensor.shared(uniform((i, 4 * h), np.sqrt(6 / (i + 4 * h)), 1), "W")
    u = pytensor.shared(uniform((h, 4 * h), 1 / np.sqrt(h), 2), "U")
    bias = pytensor.shared(np.zeros(4 * h, FLOAT), "b")
    wo = pytensor.shared(uniform((h, 128), np.sqrt(6 / (h + 128)), 3), "Wo")
    bo = pytensor.shared(np.zeros(128, FLOAT), "bo")
    xw = pt.dot(x, w) + bias  # the input projection of every step at once

    def step(xw_t, h_prev, c_prev, u):
        z = xw_t + pt.dot(h_prev, u)
        i_g = pt.sigmoid(z[:, :h])
        f_g = pt.sigmoid(z[:, h:2 * h])
        o_g = pt.sigmoid(z[:, 2 * h:3 * h])
        c = f_g * c_prev + i_g * pt.tanh(z[:, 3 * h:])
        return o_g * pt.tanh(c), c

    h0 = pt.zeros((x.shape[1], h), dtype=FLOAT)
    hs = pytensor.scan(step, sequences=[xw], outputs_info=[h0, h0],
                       non_sequences=[u])[0][0]
    logits = pt.dot(hs.reshape((-1, h)), wo) + bo
    cost = cross_entropy(logits, y)
    f = pytensor.function([x, y], cost,
                          updates=sgd(cost, [w, u, bias, wo, bo]))
    seconds = time.perf_counter() - start
    xv = uniform((t, b, i), seed=4)
    yv = rng().integers(0, 128, t * b).astype("int32")
    return (lambda: f(xv, yv)), seconds


def lstm_step(t, b, i, h):
    call, seconds = build_lstm_step(t, b, i, h)
    _compile_seconds[(t, b, i, h)] = seconds
    return call


def lstm_compile(t, b, i, h):
    if (t, b, i, h) not in _compile_seconds:
        _compile_seconds[(t, b, i, h)] = build_lstm_step(t, b, i, h)[1]
    return float(_compile_seconds[(t, b, i, h)])


def rnn_fwd_grad():
    a = pytensor.shared(uniform((64, 64), seed=1), "A")
    b = pytensor.shared(uniform((64,), seed=2), "b")
    x0 = pt.zeros((1, 64), dtype=FLOAT)
    xs = pytensor.scan(lambda x, a, b: pt.tanh(pt.dot(x, a) + b),
                       outputs_info=[x0], non_sequences=[a, b],
                       n_steps=1000)[0]
    cost = pt.sum(xs[-1])
    f = pytensor.function([], [cost] + pytensor.grad(cost, [a, b]))
    return lambda: f()


WORKLOADS = {
    "softmax_20x16": lambda: softmax(20, 16),
    "softmax_256x1000": lambda: softmax(256, 1000),
    "softmax_4096x1024": lambda: softmax(4096, 1024),
    "softmax_regression_step": lambda: classifier_step([(784, 10)]),
    "mlp_step": lambda: classifier_step([(784, 512), (512, 10)]),
    "lstm_step_s": lambda: lstm_step(50, 32, 128, 256),
    "lstm_step_l": lambda: lstm_step(100, 64, 256, 512),
    "rnn_fwd_grad": rnn_fwd_grad,
    "lstm_step_s_compile": lambda: lstm_compile(50, 32, 128, 256),
}
