"""Throughput of tinycnn against PyTorch (CPU) on the same workloads, in one run.

Usage::

    python scripts/bench.py                 # 1 thread, 7 interleaved rounds
    python scripts/bench.py --threads 2 --rounds 11
    python scripts/bench.py --workload lenet --profile   # cProfile of tinycnn's training step
    python scripts/bench.py --clock cpu     # CPU time instead of wall time (busy shared machine)

Workloads (batch 32, plain SGD, random data of the right shapes):

* ``lenet``: 28x28x1, Conv 8@5x5 same + ReLU, max-pool 2, Conv 16@5x5 same + ReLU, max-pool 2,
  Flatten, Dense 10 softmax, categorical cross-entropy.
* ``article``: the article's cats-vs-dogs model on 64x64x3 (Conv 32@3x3 + ReLU, max-pool 2,
  Conv 32@3x3 + ReLU, max-pool 2, Flatten, Dense 128 ReLU, Dense 1 sigmoid), binary cross-entropy.

Each round times tinycnn training, PyTorch training, tinycnn inference, PyTorch inference, one
after the other (interleaved, so a slow patch of the shared machine hits both sides); the
medians over the rounds are reported in examples per second, with the ratio tinycnn / PyTorch.

The thread count is pinned for both libraries *before* NumPy and torch are imported (BLAS pools
read OMP/OPENBLAS/MKL variables once, at import): on a small shared machine unpinned BLAS
threads make timings swing by 10x. The load average is printed too: when other programs compete
for the cores, wall-clock rates drop for both sides and ``--clock cpu`` gives steadier ratios.
"""
from __future__ import annotations

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--batches", type=int, default=0,
                        help="batches per timing (default: 30 for lenet, 6 for article)")
    parser.add_argument("--workload", choices=("lenet", "article", "all"), default="all")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, "
                             "steadier on a busy shared machine (meaningful with --threads 1)")
    parser.add_argument("--no-torch", action="store_true", help="time tinycnn only")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of tinycnn training instead of benchmarking")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be positive")
    return args


ARGS = parse_args()
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = str(ARGS.threads)  # must happen before numpy/torch are imported

import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tinycnn  # noqa: E402
import tinycnn.models  # noqa: E402

BATCH = 32
CLOCK = time.perf_counter if ARGS.clock == "wall" else time.process_time


# ---------------------------------------------------------------------------- models
def tiny_model(workload: str) -> tinycnn.Sequential:
    """The workload's model from tinycnn's model zoo (``tinycnn.models.lenet`` /
    ``tinycnn.models.article_cnn``), compiled for plain SGD."""
    if workload == "lenet":
        model, loss = tinycnn.models.lenet(), "categorical_crossentropy"
    else:
        model, loss = tinycnn.models.article_cnn(), "binary_crossentropy"
    model.compile(optimizer=tinycnn.optimizers.SGD(learning_rate=0.01), loss=loss)
    return model


def torch_model(workload: str):
    import torch
    from torch import nn

    if workload == "lenet":
        net = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 16, 10),
        )
        loss = nn.CrossEntropyLoss()  # softmax + categorical cross-entropy on class indices
    else:
        net = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(14 * 14 * 32, 128), nn.ReLU(), nn.Linear(128, 1),
        )
        loss = nn.BCEWithLogitsLoss()  # sigmoid + binary cross-entropy
    return net, loss, torch.optim.SGD(net.parameters(), lr=0.01)


def make_data(workload: str, batches: int, seed: int = 0):
    """Random inputs and targets: ``batches`` batches of ``BATCH`` examples."""
    rng = np.random.default_rng(seed)
    shape = (28, 28, 1) if workload == "lenet" else (64, 64, 3)
    x = rng.random((batches, BATCH) + shape, dtype=np.float32)
    if workload == "lenet":
        labels = rng.integers(0, 10, size=(batches, BATCH))
        y = np.eye(10, dtype=np.float32)[labels]
    else:
        labels = rng.integers(0, 2, size=(batches, BATCH))
        y = labels[..., None].astype(np.float32)
    return x, y, labels


# ---------------------------------------------------------------------------- timed loops
def time_tiny_train(model, x, y) -> float:
    start = CLOCK()
    for xb, yb in zip(x, y):
        model.train_on_batch(xb, yb)
    return CLOCK() - start


def time_tiny_infer(model, x) -> float:
    start = CLOCK()
    for xb in x:
        model.predict(xb, batch_size=BATCH)
    return CLOCK() - start


def time_torch_train(net, loss_fn, optimizer, x, target) -> float:
    start = CLOCK()
    for xb, tb in zip(x, target):
        optimizer.zero_grad()
        loss_fn(net(xb), tb).backward()
        optimizer.step()
    return CLOCK() - start


def time_torch_infer(net, x) -> float:
    import torch

    start = CLOCK()
    with torch.no_grad():
        for xb in x:
            net(xb)
    return CLOCK() - start


# ---------------------------------------------------------------------------- driver
def bench(workload: str, args) -> dict:
    batches = args.batches or (30 if workload == "lenet" else 6)
    tinycnn.utils.set_random_seed(0)
    model = tiny_model(workload)
    x, y, labels = make_data(workload, batches)
    examples = batches * BATCH
    timers = {"tinycnn train": lambda: time_tiny_train(model, x, y),
              "tinycnn infer": lambda: time_tiny_infer(model, x)}
    if not args.no_torch:
        import torch

        torch.manual_seed(0)
        net, loss_fn, optimizer = torch_model(workload)
        tx = [torch.from_numpy(np.ascontiguousarray(b.transpose(0, 3, 1, 2))) for b in x]
        if workload == "lenet":
            tt = [torch.from_numpy(b.astype(np.int64)) for b in labels]
        else:
            tt = [torch.from_numpy(b[:, None].astype(np.float32)) for b in labels]
        timers["torch train"] = lambda: time_torch_train(net, loss_fn, optimizer, tx, tt)
        timers["torch infer"] = lambda: time_torch_infer(net, tx)
    order = [k for k in ("tinycnn train", "torch train", "tinycnn infer", "torch infer") if k in timers]
    for key in order:  # warm-up: first calls allocate, build caches, load BLAS kernels
        timers[key]()
    seconds = {key: [] for key in order}
    for _ in range(args.rounds):
        for key in order:
            seconds[key].append(timers[key]())
    return {key: examples / statistics.median(values) for key, values in seconds.items()}


def profile(workload: str, args) -> None:
    import cProfile
    import pstats

    tinycnn.utils.set_random_seed(0)
    model = tiny_model(workload)
    x, y, _ = make_data(workload, args.batches or 30)
    time_tiny_train(model, x, y)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        time_tiny_train(model, x, y)
        time_tiny_infer(model, x)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    args = ARGS
    workloads = ("lenet", "article") if args.workload == "all" else (args.workload,)
    print(f"tinycnn {tinycnn.__version__}, NumPy {np.__version__}, Python {sys.version.split()[0]}, "
          f"threads={args.threads}, rounds={args.rounds}, batch={BATCH}, clock={args.clock}")
    if hasattr(os, "getloadavg"):
        print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
              + f" on {os.cpu_count()} cores")
    if not args.no_torch and not args.profile:
        import torch

        torch.set_num_threads(args.threads)
        print(f"PyTorch {torch.__version__}, torch threads={torch.get_num_threads()}")
    for workload in workloads:
        if args.profile:
            profile(workload, args)
            continue
        rates = bench(workload, args)
        print(f"\n[{workload}] median examples/s")
        for task in ("train", "infer"):
            tiny = rates[f"tinycnn {task}"]
            line = f"  {task:5s}  tinycnn {tiny:9.0f}"
            if f"torch {task}" in rates:
                theirs = rates[f"torch {task}"]
                line += f"   torch {theirs:9.0f}   ratio {tiny / theirs:5.2f}x"
            print(line)


if __name__ == "__main__":
    main()
