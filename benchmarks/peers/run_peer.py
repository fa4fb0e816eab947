#!/usr/bin/env python3
"""Runs the peers' side of Theta's benchmark suite (//benchmarks:suite).

One round of one framework over the named workloads, each timed as Google
Benchmark times Theta's: warm up, then run batches of calls, doubling the
batch until one lasts --min_time seconds; its time per call is the result.

  python run_peer.py --probe --out -
  python run_peer.py --framework torch --threads 1 \
      --workloads softmax_20x16,mlp_step --min_time 0.5 --out torch.json

Writes {"seconds": {workload: seconds per call}, "errors": {workload: why}}.
The Fashion-MNIST epoch is timed once and reported per training image.
Workloads a framework does not have (torch has no compile step) are left out.
The suite sets OMP/MKL/OPENBLAS_NUM_THREADS; --threads also goes to
torch.set_num_threads.
"""
import argparse
import json
import sys
import time
import traceback

FRAMEWORKS = ("torch", "pytensor")


def time_per_call(fn, min_time):
    fn()  # warm-up: allocations, caches, lazy compilation
    iterations = 1
    while True:
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / iterations
        grow = min_time * 1.4 / max(elapsed, 1e-9)
        iterations = max(iterations + 1, int(iterations * min(grow, 10)))


def framework_module(name):
    if name == "torch":
        import torch_workloads as module
    else:
        import pytensor_workloads as module
    return module


def probe():
    report = {}
    for name in FRAMEWORKS:
        try:
            module = framework_module(name)
            report[name] = {"version": module.version(),
                            "detail": module.detail()}
        except Exception as e:  # any import failure makes the peer unusable
            report[name] = {"error": f"{type(e).__name__}: {e}"}
    return report


def run(framework, threads, workloads, min_time, fashion_mnist_images):
    module = framework_module(framework)
    module.set_threads(threads)
    module.FASHION_MNIST_IMAGES = fashion_mnist_images
    seconds, errors = {}, {}
    for workload in workloads:
        if workload not in module.WORKLOADS:
            continue
        try:
            made = module.WORKLOADS[workload]()
            if isinstance(made, float):  # a measured duration (compile time)
                seconds[workload] = made
            else:
                seconds[workload] = time_per_call(made, min_time)
        except Exception:
            errors[workload] = traceback.format_exc(limit=3)[-800:]
    return {"framework": framework, "version": module.version(),
            "threads": threads, "seconds": seconds, "errors": errors}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--framework", choices=FRAMEWORKS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workloads", default="")
    parser.add_argument("--min_time", type=float, default=0.5)
    parser.add_argument("--fashion_mnist_images", type=int, default=0,
                        help="images of the Fashion-MNIST epoch; 0: all")
    parser.add_argument("--out", required=True, help="a file, or - for stdout")
    args = parser.parse_args()
    if args.probe:
        result = probe()
    elif args.framework:
        workloads = [w for w in args.workloads.split(",") if w]
        result = run(args.framework, args.threads, workloads, args.min_time,
                     args.fashion_mnist_images)
    else:
        parser.error("give --probe or --framework")
    if args.out == "-":
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        with open(args.out, "w") as out:
            json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0] if "/" in __file__ else ".")
    sys.exit(main())
