"""Benchmark: the article's augmentation (shear 0.2, zoom 0.2, flips, rescale) on 64x64x3 batches.

Compares ImageDataGenerator's vectorised batch warp with the same generator applied one image at
a time (what a per-image loop, as in Keras, costs here), and reports images per second (median of
interleaved rounds). Usage: ``python scripts/bench_augment.py [--rounds 7] [--batch 32]``.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from tinycnn.preprocessing.image import ImageDataGenerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    generator = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True)
    images = np.random.RandomState(0).uniform(0, 255, size=(args.batch, args.size, args.size, 3))
    images = images.astype(np.float32)

    def batched() -> None:
        generator.standardize(generator.random_transform_batch(images, np.random.RandomState(1)))

    def one_by_one() -> None:
        for index, image in enumerate(images):
            generator.standardize(generator.random_transform(image, seed=index))

    timings = {"vectorised batch": [], "one image at a time": []}
    for _ in range(args.rounds):
        for name, run in (("vectorised batch", batched), ("one image at a time", one_by_one)):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:>20}: {args.batch / median:8.0f} images/s  ({median * 1e3:.1f} ms per "
              f"batch of {args.batch} {args.size}x{args.size}x3)")


if __name__ == "__main__":
    main()
