"""Make a small stand-in for the article's cats/dogs photos, so its program runs offline.

Writes ``OUT/training_set/{cats,dogs}/*.png`` and ``OUT/test_set/{cats,dogs}/*.png`` (the
article's folder layout). The images are synthetic: by default vertical bars in ``cats`` and
horizontal bars in ``dogs`` (``--kind shapes``: circles versus crosses), so a CNN can learn them.

Usage::

    python scripts/make_image_folder.py dataset
    python scripts/cats_vs_dogs.py --dataset dataset --epochs 5

Needs Pillow (``pip install tinycnn[image]``).
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from tinycnn.datasets import make_image_folder


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default="dataset",
                        help="root folder to write (default: dataset)")
    parser.add_argument("--kind", choices=("stripes", "shapes"), default="stripes",
                        help="stripes: vertical vs horizontal bars (default, learnt in a couple "
                             "of epochs); shapes: circles vs crosses (needs more data)")
    parser.add_argument("--classes", nargs=2, default=("cats", "dogs"), metavar="NAME",
                        help="the two class folder names (default: cats dogs)")
    parser.add_argument("--train-per-class", type=int, default=100,
                        help="training images per class (default 100; the article had 4000)")
    parser.add_argument("--test-per-class", type=int, default=25,
                        help="test images per class (default 25; the article had 1000)")
    parser.add_argument("--image-size", type=int, default=64, help="pixels (default 64)")
    parser.add_argument("--format", choices=("png", "jpg"), default="png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        written = make_image_folder(args.out, kind=args.kind, class_names=args.classes,
                                    train_per_class=args.train_per_class,
                                    test_per_class=args.test_per_class,
                                    image_size=args.image_size, image_format=args.format,
                                    seed=args.seed)
    except (ValueError, ImportError, OSError) as error:
        print(f"make_image_folder: error: {error}", file=sys.stderr)
        return 2
    for split, folder in written.items():
        print(f"{split}: {folder} ({args.classes[0]}, {args.classes[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
