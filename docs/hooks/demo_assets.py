"""MkDocs hook: build-time data for the interactive demos (docs/javascripts/demos/).

What it writes into the built site::

    assets/data/photo64.json        a 64x64 crop of matplotlib's sample photo grace_hopper.jpg:
                                    "grey" (64, 64) and "rgb" (64, 64, 3) integers 0..255
    assets/data/digits_model.npz    the draw-a-digit model, trained here by tinycnn on the real
                                    8x8 digits (a model.save file: tinycnn.models.load_model)
    assets/data/digits_model.json   that model's layers, parameter count, training settings,
                                    held-out accuracy and calibration temperature
    assets/data/article_model.json  the article's CNN as tinycnn sees it: layers, output shapes and
                                    parameter counts (summary()), drawn before Python has loaded

The model definitions and the training loop are those of ``docs/javascripts/demos/demos.py``, the
file the page itself runs, so the page and the build use the same network. Nothing is written into
the repository; the results are cached in ``demos/`` of the cache folder (``common.cache_dir``, default
``~/.cache/tinycnn``) keyed by the content of tinycnn and of the demo code.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import common
from common import ROOT

DEMOS_PY = ROOT / "docs" / "javascripts" / "demos" / "demos.py"
PHOTO_CROP = (slice(20, 340), slice(100, 420))   # rows, cols of grace_hopper.jpg (600 x 512)
PRETRAIN_EPOCHS = 15
FILES = ["photo64.json", "digits_model.npz", "digits_model.json", "article_model.json"]


def _log(message: str) -> None:
    common.log("demos", message)


def load_demos_module():
    """``docs/javascripts/demos/demos.py`` imported as a module (``tinycnn_demos``)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("tinycnn_demos", DEMOS_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def write_photo(path: Path) -> None:
    """64x64 grey and colour versions of a square crop around the face of the sample photo."""
    import numpy as np
    from matplotlib import cbook
    from matplotlib import pyplot as plt
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        photo = plt.imread(handle)
    crop = np.ascontiguousarray(photo[PHOTO_CROP])
    small = np.asarray(Image.fromarray(crop).resize((64, 64), Image.LANCZOS), dtype=np.uint8)
    grey = np.round(small.astype(np.float64).mean(axis=2)).astype(np.uint8)
    data = {
        "source": "matplotlib's sample photo grace_hopper.jpg (rows 20-340, columns 100-420), "
                  "resized to 64x64",
        "grey": grey.tolist(),
        "rgb": small.tolist(),
    }
    path.write_text(json.dumps(data, separators=(",", ":")))


def write_digits_model(demos, weights_path: Path, info_path: Path) -> float:
    """Train the draw-a-digit model on the real digits with tinycnn; return held-out accuracy."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = demos.load_digit_data(digits.images, digits.target)
    settings = demos.DIGITS_DEFAULTS
    trainer = demos.Trainer(settings["learning_rate"], PRETRAIN_EPOCHS, settings["batch_size"],
                            settings["seed"], data=data)
    started = time.time()
    # one BLAS thread: the matrices are tiny, and OpenBLAS threads only fight each other (10x
    # slower on a busy 2-core machine); threadpoolctl comes with scikit-learn
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        while not trainer.done:
            trainer.step(seconds=60.0)
    seconds = time.time() - started
    final = trainer.final()
    trainer.model.save(str(weights_path), metadata=demos.digits_model_metadata(
        final["test_accuracy"], PRETRAIN_EPOCHS, "the build of the tinycnn site"))
    # how sure the page says the model is: temperature scaling fitted on the held-out digits
    temperature = demos.fit_temperature(trainer.model, trainer.x_test, trainer.y_test)
    info = {
        "source": demos.DIGITS_MODEL_SOURCE,
        "layers": demos.describe(trainer.model),
        "params": int(trainer.model.count_params()),
        "epochs": PRETRAIN_EPOCHS,
        "learning_rate": settings["learning_rate"],
        "batch_size": settings["batch_size"],
        "train_size": int(len(trainer.x)),
        "test_size": int(len(trainer.x_test)),
        "test_accuracy": final["test_accuracy"],
        "temperature": temperature,
        "history": trainer.history,
        "build_seconds": round(seconds, 2),
    }
    info_path.write_text(json.dumps(info, indent=1))
    return final["test_accuracy"]


def _cache_key() -> str:
    files = [Path(__file__), DEMOS_PY] + sorted((ROOT / "tinycnn").rglob("*.py"))
    return common.hash_files(files).hexdigest()[:20]


def build_assets() -> Path:
    """Compute (or take from the cache) the demo files; return their folder."""
    cache = common.cache_dir("demos", _cache_key())
    if all((cache / name).exists() for name in FILES):
        _log(f"demo data from the cache ({cache})")
        return cache
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    demos = load_demos_module()
    write_photo(tmp / "photo64.json")
    accuracy = write_digits_model(demos, tmp / "digits_model.npz", tmp / "digits_model.json")
    (tmp / "article_model.json").write_text(demos.article_summary())
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)
    _log(f"trained the draw-a-digit model: held-out accuracy {accuracy:.3f}")
    return cache


def on_post_build(config, **kwargs) -> None:
    source = build_assets()
    target = Path(config["site_dir"]) / "assets" / "data"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(source / name, target / name)
