"""In-browser speed: tinycnn in the page's Pyodide against in-browser peers, in one headless Chromium.

Usage (after ``mkdocs build`` into ./site; needs Debian's ``chromium``, Playwright for Python and
``npm`` for the peers, which ``scripts/npm_fetch.py`` caches outside the repository)::

    python scripts/bench_browser.py                    # startup + LeNet training/inference, 5 rounds
    python scripts/bench_browser.py --rounds 7 --json bench.json
    python scripts/bench_browser.py --kernels          # also: which NumPy conv formulation is fastest
    python scripts/bench_browser.py --layers           # also: ms per layer of the in-page inference
    python scripts/bench_browser.py --startup 5 --startup-only   # only the page's startup
    python scripts/bench_browser.py --intent 3 --intent-only     # only the reader's intent -> first result

Workload: the ``lenet`` workload of ``scripts/bench.py`` (28x28x1, Conv 8@5x5 same + ReLU, max-pool 2,
Conv 16@5x5 same + ReLU, max-pool 2, Flatten, Dense 10 softmax, categorical cross-entropy, plain
SGD, batch 32, random data), built with each library:

* tinycnn in the site's Pyodide 0.17 (the page's Web Worker, via ``window.tinycnnSite.run``);
* ConvNetJS (npm ``convnetjs@0.3.0``; trains one example at a time, its batch_size only
  accumulates gradients; a fresh page per measurement, as V8 deoptimises mixed typed arrays);
* TensorFlow.js 4.22.0 ``cpu`` backend (training and inference);
* TensorFlow.js 4.22.0 ``wasm`` backend (inference only: it has no Conv2DBackpropFilter kernel).

Rounds are interleaved (each round measures every library once) and medians are reported in
examples per second.

Startup: navigation -> first cell result (the convolution example), medians of ``--startup`` loads:

* cold -- a new browser profile (empty caches);
* warm -- the returning reader (issue 5's target, <= 3 s): the same *persistent* profile
  (``launch_persistent_context``, a disk cache like a real browser's) loads the page again, after the
  first visit stored the page's byte-code cache (docs/javascripts/tinycnn-worker.js); measured with
  that cache and, for comparison, with it turned off (``tinycnnSiteOptions.bytecodeCache = false``);
* warm, in-memory context -- the same in a Playwright ``browser.new_context()``. Such a context is
  incognito: its HTTP cache lives in memory and does not keep responses over ~10 MB, so
  pyodide.asm.wasm (11 MB) and numpy.data (8.3 MB) are downloaded again (served anew by the local
  server: HTTP 200, not 304 or a cache hit) and V8 cannot reuse its compiled code for the wasm. That
  is not what a returning reader's browser does, so this number is kept only for comparison with
  earlier runs.

The warm timeline (ms since navigation, from ``tinycnnSite.timings()``) shows where the time goes.

Intent (``--intent N``): the page loads Python only when the reader shows intent (docs/javascripts/
intent.js), so what a reader waits for is intent -> first result: the page is opened and left
until its network is quiet (the script checks that nothing of the runtime was requested), then the
pointer moves over the first cell and the convolution example runs; timed from the pointer move to
the printed result. Cold: a new persistent profile; warm: the same profile's next visit.

Everything is served from 127.0.0.1; nothing else is contacted.
"""
from __future__ import annotations

import argparse
import http.server
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
BATCH = 32

FIRST_CELL = ("from tinycnn.functional import conv2d\n"
              "print(conv2d([[3, 1, 1], [1, 0, 7], [2, 3, 5]], [[1, 0, -1]] * 3))\n")

TINYCNN_SETUP = """
import time
import numpy as np
from tinycnn.models import lenet
from tinycnn.optimizers import SGD
from tinycnn.utils import set_random_seed
set_random_seed(0)
bench_model = lenet()  # Conv 8@5x5 same relu, pool 2, Conv 16@5x5 same relu, pool 2, Dense 10
bench_model.compile(optimizer=SGD(learning_rate=0.01), loss="categorical_crossentropy")
_rng = np.random.RandomState(0)
bench_x = _rng.random_sample((BATCHES * 32, 28, 28, 1)).astype(np.float32)
bench_y = np.eye(10, dtype=np.float32)[_rng.randint(0, 10, BATCHES * 32)]
bench_model.train_on_batch(bench_x[:32], bench_y[:32])  # warm-up

def bench_train():
    start = time.perf_counter()
    for i in range(BATCHES):
        bench_model.train_on_batch(bench_x[i * 32:(i + 1) * 32], bench_y[i * 32:(i + 1) * 32])
    return BATCHES * 32 / (time.perf_counter() - start)

def bench_infer():
    start = time.perf_counter()
    for i in range(BATCHES):
        bench_model.predict(bench_x[i * 32:(i + 1) * 32], batch_size=32)
    return BATCHES * 32 / (time.perf_counter() - start)

def bench_layers(repeats=30):
    # median ms of each layer's inference forward on one batch of 32, and of the whole predict
    import statistics
    x, timings = bench_x[:32], {}
    def median_ms(function):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)
    for layer in bench_model.layers:  # the layer-by-layer path (what training runs)
        timings["layer " + layer.name] = median_ms(lambda: layer.forward(x, training=False))
        x = layer.forward(x, training=False)
    # the steps of predict's wide-rows path (tinycnn/fast/browser_inference.py)
    from tinycnn.fast import wide_rows
    conv1, _, conv2, _, flatten, dense = bench_model.layers
    planes = wide_rows.batch_to_planes(bench_x[:32])
    conv = lambda layer, p: wide_rows.conv2d(p, layer.kernel, layer.bias, "same", step_multiple=2)
    pool = lambda rows: wide_rows.max_pool(rows, (2, 2), relu_after=True)
    rows1 = conv(conv1, planes)
    timings["predict: conv1"] = median_ms(lambda: conv(conv1, planes))
    timings["predict: relu + max-pool 1"] = median_ms(lambda: pool(rows1))
    pooled1 = pool(rows1)
    rows2 = conv(conv2, pooled1.planes)
    timings["predict: conv2"] = median_ms(lambda: conv(conv2, pooled1.planes))
    timings["predict: relu + max-pool 2"] = median_ms(lambda: pool(rows2))
    pooled2 = pool(rows2)
    timings["predict: back to (N, H, W, C), flatten, dense"] = median_ms(
        lambda: dense.forward(flatten.forward(pooled2.to_batch()), training=False))
    timings["predict (whole batch)"] = median_ms(lambda: bench_model.predict(bench_x[:32], batch_size=32))
    return timings
"""

PEER_PAGE = """<!doctype html><meta charset="utf-8"><title>peer bench</title>
<script src="/peers/convnetjs/build/convnet.js"></script>
<script src="/peers/tfjs/dist/tf.min.js"></script>
<script src="/peers/tfjs-wasm/dist/tf-backend-wasm.min.js"></script>
<script>
function randomData(n) {
  const x = new Float32Array(n * 28 * 28), y = new Int32Array(n);
  let seed = 1;
  const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  for (let i = 0; i < x.length; i++) x[i] = rand();
  for (let i = 0; i < n; i++) y[i] = Math.floor(rand() * 10);
  return { x, y };
}
async function benchConvnet(batches, train) {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: "input", out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: "conv", sx: 5, filters: 8, stride: 1, pad: 2, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "conv", sx: 5, filters: 16, stride: 1, pad: 2, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "softmax", num_classes: 10 },
  ]);
  const trainer = new convnetjs.SGDTrainer(net, { method: "sgd", learning_rate: 0.01, momentum: 0,
                                                  batch_size: 32, l2_decay: 0 });
  const n = batches * 32, data = randomData(n), vols = [];
  for (let i = 0; i < n; i++) {
    const v = new convnetjs.Vol(28, 28, 1, 0.0);
    for (let j = 0; j < 784; j++) v.w[j] = data.x[i * 784 + j];
    vols.push(v);
  }
  trainer.train(vols[0], data.y[0]);  // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    if (train) trainer.train(vols[i], data.y[i]); else net.forward(vols[i], false);
  }
  return n / ((performance.now() - start) / 1000);
}
function tfModel() {
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding: "same", activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: "same", activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, activation: "softmax" }),
  ] });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy" });
  return model;
}
async function benchTf(backend, batches, train) {
  if (backend === "wasm") tf.wasm.setWasmPaths("/peers/tfjs-wasm/dist/");
  await tf.setBackend(backend);
  await tf.ready();
  const model = tfModel();
  const data = randomData(batches * 32);
  const xs = [], ys = [];
  for (let b = 0; b < batches; b++) {
    xs.push(tf.tensor4d(data.x.subarray(b * 32 * 784, (b + 1) * 32 * 784), [32, 28, 28, 1]));
    ys.push(tf.oneHot(tf.tensor1d(Array.from(data.y.subarray(b * 32, (b + 1) * 32)), "int32"), 10));
  }
  if (train) await model.trainOnBatch(xs[0], ys[0]); else model.predict(xs[0]).dataSync();  // warm-up
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    if (train) await model.trainOnBatch(xs[b], ys[b]);
    else { const out = model.predict(xs[b]); out.dataSync(); out.dispose(); }
  }
  const rate = batches * 32 / ((performance.now() - start) / 1000);
  xs.forEach((t) => t.dispose()); ys.forEach((t) => t.dispose()); model.dispose();
  return { rate, backend: tf.getBackend() };
}
</script>
"""


def _npm_fetch(spec: str) -> Path:
    module_spec = importlib.util.spec_from_file_location("npm_fetch", ROOT / "scripts" / "npm_fetch.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.fetch(spec)


class _Handler(http.server.SimpleHTTPRequestHandler):
    mounts: Dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        url_path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, folder in sorted(self.mounts.items(), key=lambda item: -len(item[0])):
            if url_path.startswith(prefix):
                self.directory = str(folder)
                return http.server.SimpleHTTPRequestHandler.translate_path(self, "/" + url_path[len(prefix):])
        return str(Path(tempfile.gettempdir()) / "__missing__")

    def log_message(self, *args) -> None:
        pass


def serve(mounts: Dict[str, Path]):
    handler = type("Handler", (_Handler,), {"mounts": mounts})
    handler.extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map)
    handler.extensions_map.update({".wasm": "application/wasm", ".js": "text/javascript",
                                   ".data": "application/octet-stream"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d/" % server.server_address[1]


def runnable_page(site: Path) -> str:
    for html in sorted(site.rglob("index.html")):
        if "data-runnable" in html.read_text(encoding="utf-8") and "convolution" in str(html):
            return html.parent.relative_to(site).as_posix() + "/"
    for html in sorted(site.rglob("index.html")):
        if "data-runnable" in html.read_text(encoding="utf-8"):
            folder = html.parent.relative_to(site).as_posix()
            return "" if folder == "." else folder + "/"
    raise SystemExit(f"{site} has no page with a runnable cell: build the site first (mkdocs build)")


STAGES = ["load", "start", "worker", "booted", "numpyLoaded", "numpyImported", "setup", "ready", "result"]


def first_result_ms(page, url: str) -> Dict[str, float]:
    """Navigate and run the first cell; milliseconds since navigation start of each step.

    Then waits, as a reader who stays on the page would, until the page stored its byte-code cache
    (when it has one), so that the next load can use it."""
    page.goto(url)
    timings = page.evaluate("""async (code) => {
        const navigation = performance.getEntriesByType("navigation")[0];
        await tinycnnSite.ready();
        const ready = performance.now();
        const out = await tinycnnSite.run(code);
        if (out.error || !out.stdout.includes("-7")) throw new Error("unexpected output " + JSON.stringify(out));
        return Object.assign(tinycnnSite.timings(), { load: navigation.loadEventEnd, ready,
            result: performance.now(), bytecodeCache: tinycnnSite.info().bytecodeCache || "off" });
    }""", FIRST_CELL)
    if timings["bytecodeCache"] != "off":
        page.wait_for_function("tinycnnSite.timings().bytecodeSaved", timeout=120_000)
    return timings


RUNTIME_FILES = ("/assets/pyodide/", "/assets/codemirror/", "/javascripts/tinycnn-worker.js", ".whl")


def intent_result_ms(page, url: str, requests: List[str]) -> Dict[str, float]:
    """Open the page, wait (no interaction), then point at the first cell and run the first cell's
    example: ms from the pointer move to the result, and how many runtime files were requested
    before the pointer moved (0 when Python waits for intent)."""
    requests.clear()
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(1000)
    before = sum(1 for request in requests if any(part in request for part in RUNTIME_FILES))
    page.evaluate("window.__intentAt = performance.now()")
    page.hover(".tc-cell[data-runnable] >> nth=0")
    timings = page.evaluate("""async (code) => {
        const out = await tinycnnSite.run(code);
        if (out.error || !out.stdout.includes("-7")) throw new Error("unexpected output " + JSON.stringify(out));
        return { result: performance.now() - window.__intentAt,
                 bytecodeCache: tinycnnSite.info().bytecodeCache || "off" };
    }""", FIRST_CELL)
    timings["runtime_requests_before_intent"] = before
    if timings["bytecodeCache"] != "off":
        page.wait_for_function("tinycnnSite.timings().bytecodeSaved", timeout=120_000)
    return timings


def median_of(loads: List[Dict[str, float]], key: str) -> float:
    return statistics.median(load[key] for load in loads)


def python(page, code: str, stdout: bool = False):
    out = page.evaluate("(code) => tinycnnSite.run(code)", code)
    if out["error"]:
        raise RuntimeError("Python in the page failed:\n" + out["error"])
    return out["stdout"] if stdout else out["result"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="built site (default ./site)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--batches", type=int, default=20, help="batches of 32 per timing (default 20)")
    parser.add_argument("--startup", type=int, default=3, help="cold and warm startups to time (default 3)")
    parser.add_argument("--startup-only", action="store_true", help="only time the startup")
    parser.add_argument("--service-workers", choices=["allow", "block"], default="allow",
                        help="the site's service worker in the startup and intent loads (default allow, as "
                             "for a reader; block: every file from the HTTP cache, for comparison)")
    parser.add_argument("--intent", type=int, default=0,
                        help="cold and warm intent -> first result timings (default 0: none)")
    parser.add_argument("--intent-only", action="store_true", help="only time intent -> first result")
    parser.add_argument("--kernels", action="store_true",
                        help="also time conv forward/backward formulations (einsum, tensordot, matmul)")
    parser.add_argument("--layers", action="store_true",
                        help="also time each layer's inference forward in the page (ms per batch of 32)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if not (args.site / "assets" / "tinycnn" / "runtime.json").exists():
        raise SystemExit(f"{args.site} is not a built site with the in-page runtime: run mkdocs build first")

    from playwright.sync_api import sync_playwright

    bench_dir = Path(tempfile.mkdtemp(prefix="tinycnn-bench-"))
    (bench_dir / "index.html").write_text(PEER_PAGE)
    server, base = serve({
        "/": args.site.resolve(),
        "/bench/": bench_dir,
        "/peers/convnetjs/": _npm_fetch("convnetjs@0.3.0"),
        "/peers/tfjs/": _npm_fetch("@tensorflow/tfjs@4.22.0"),
        "/peers/tfjs-wasm/": _npm_fetch("@tensorflow/tfjs-backend-wasm@4.22.0"),
    })
    page_url = base + runnable_page(args.site)
    results: Dict[str, object] = {"batch": BATCH, "batches": args.batches, "rounds": args.rounds}
    foreign: List[str] = []
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

            def watch(ctx):
                ctx.on("request", lambda request: foreign.append(request.url)
                       if not request.url.startswith(("http://127.0.0.1:", "data:", "blob:")) else None)
                return ctx

            def context(**kwargs):
                return watch(browser.new_context(**kwargs))

            # ---------------------------------------------------------------- intent
            if args.intent or args.intent_only:
                rounds: Dict[str, List[Dict[str, float]]] = {"cold": [], "warm": []}
                for _ in range(max(1, args.intent)):
                    profile = tempfile.mkdtemp(prefix="tinycnn-bench-profile-")
                    ctx = watch(playwright.chromium.launch_persistent_context(
                        profile, executable_path=executable, args=CHROMIUM_ARGS,
                        service_workers=args.service_workers))
                    seen: List[str] = []
                    ctx.on("request", lambda request: seen.append(request.url))
                    page = ctx.new_page()
                    page.set_default_timeout(180_000)
                    rounds["cold"].append(intent_result_ms(page, page_url, seen))
                    rounds["warm"].append(intent_result_ms(page, page_url, seen))
                    ctx.close()
                    shutil.rmtree(profile, ignore_errors=True)
                results["intent_ms"] = {
                    "cold_first_result": median_of(rounds["cold"], "result"),
                    "warm_first_result": median_of(rounds["warm"], "result"),
                    "runtime_requests_before_intent": max(item["runtime_requests_before_intent"]
                                                          for item in rounds["cold"] + rounds["warm"]),
                    "warm_bytecode_cache": [item["bytecodeCache"] for item in rounds["warm"]],
                }
                print("intent (pointer over the first cell -> first cell result): cold %.0f ms, warm %.0f ms"
                      % (results["intent_ms"]["cold_first_result"], results["intent_ms"]["warm_first_result"]),
                      flush=True)
                if args.intent_only:
                    browser.close()
                    return finish(results, foreign, args)

            # ---------------------------------------------------------------- startup
            loads: Dict[str, List[Dict[str, float]]] = {
                "cold": [], "warm": [], "warm_no_bytecode_cache": [], "warm_memory_context": []}
            for _ in range(args.startup):
                # The returning reader: a persistent profile (disk cache, IndexedDB), with and
                # without the byte-code cache; its first load is the cold one.
                for name, options in (("warm", {}), ("warm_no_bytecode_cache", {"bytecodeCache": False})):
                    profile = tempfile.mkdtemp(prefix="tinycnn-bench-profile-")
                    ctx = watch(playwright.chromium.launch_persistent_context(
                        profile, executable_path=executable, args=CHROMIUM_ARGS,
                        service_workers=args.service_workers))
                    if options:
                        ctx.add_init_script("window.tinycnnSiteOptions = %s;" % json.dumps(options))
                    page = ctx.new_page()
                    page.set_default_timeout(180_000)
                    cold_load = first_result_ms(page, page_url)
                    if not options:
                        loads["cold"].append(cold_load)
                    loads[name].append(first_result_ms(page, page_url))
                    ctx.close()
                    shutil.rmtree(profile, ignore_errors=True)
                ctx = context()  # incognito: big files are downloaded again (see the docstring)
                page = ctx.new_page()
                page.set_default_timeout(180_000)
                first_result_ms(page, page_url)
                loads["warm_memory_context"].append(first_result_ms(page, page_url))
                ctx.close()
            startup = {}
            for name, items in loads.items():
                startup[name + "_first_result"] = median_of(items, "result")
                startup[name + "_ready"] = median_of(items, "ready")
            startup["warm_bytecode_cache"] = [item["bytecodeCache"] for item in loads["warm"]]
            startup["warm_timeline"] = {key: median_of(loads["warm"], key) for key in STAGES
                                        if all(key in item for item in loads["warm"])}
            startup["warm_no_bytecode_cache_timeline"] = {
                key: median_of(loads["warm_no_bytecode_cache"], key) for key in STAGES
                if all(key in item for item in loads["warm_no_bytecode_cache"])}
            results["startup_ms"] = startup
            print("startup (navigation -> first cell result): cold %.0f ms, warm %.0f ms "
                  "(without the byte-code cache %.0f ms; in-memory context %.0f ms)"
                  % (startup["cold_first_result"], startup["warm_first_result"],
                     startup["warm_no_bytecode_cache_first_result"], startup["warm_memory_context_first_result"]),
                  flush=True)
            if args.startup_only:
                browser.close()
                return finish(results, foreign, args)

            # ---------------------------------------------------------------- throughput
            ctx = context()
            tiny = ctx.new_page()
            tiny.set_default_timeout(600_000)
            tiny.goto(page_url)
            info = tiny.evaluate("tinycnnSite.ready()")
            results["versions"] = info
            python(tiny, "BATCHES = %d\n" % args.batches + TINYCNN_SETUP)
            rates: Dict[str, List[float]] = {key: [] for key in (
                "tinycnn_train", "tinycnn_infer", "convnetjs_train", "convnetjs_infer",
                "tfjs_cpu_train", "tfjs_cpu_infer", "tfjs_wasm_infer")}
            convnet_batches = max(2, args.batches // 4)
            for round_index in range(args.rounds):
                rates["tinycnn_train"].append(float(python(tiny, "bench_train()")))
                rates["tinycnn_infer"].append(float(python(tiny, "bench_infer()")))
                for key, call in (
                    ("convnetjs_train", "benchConvnet(%d, true)" % convnet_batches),
                    ("convnetjs_infer", "benchConvnet(%d, false)" % args.batches),
                    ("tfjs_cpu_train", "benchTf('cpu', %d, true).then((r) => r.rate)" % max(2, args.batches // 4)),
                    ("tfjs_cpu_infer", "benchTf('cpu', %d, false).then((r) => r.rate)" % args.batches),
                    ("tfjs_wasm_infer", "benchTf('wasm', %d, false).then((r) => r.rate)" % (args.batches * 4)),
                ):
                    peer_ctx = context()
                    peer = peer_ctx.new_page()
                    peer.set_default_timeout(600_000)
                    peer.goto(base + "bench/")
                    rates[key].append(float(peer.evaluate(call)))
                    peer_ctx.close()
                print("round %d: " % (round_index + 1)
                      + ", ".join("%s %.0f" % (key, values[-1]) for key, values in rates.items()), flush=True)
            medians = {key: statistics.median(values) for key, values in rates.items()}
            results["examples_per_second"] = medians
            results["ratios"] = {
                "train_vs_convnetjs": medians["tinycnn_train"] / medians["convnetjs_train"],
                "train_vs_tfjs_cpu": medians["tinycnn_train"] / medians["tfjs_cpu_train"],
                "infer_vs_tfjs_wasm": medians["tinycnn_infer"] / medians["tfjs_wasm_infer"],
                "infer_vs_tfjs_cpu": medians["tinycnn_infer"] / medians["tfjs_cpu_infer"],
                "infer_vs_convnetjs": medians["tinycnn_infer"] / medians["convnetjs_infer"],
            }

            # ---------------------------------------------------------------- kernels
            if args.kernels:
                code = (ROOT / "scripts" / "bench_kernels_code.py").read_text()
                code = code.replace('if __name__ == "__main__":', "if False:")
                python(tiny, code)
                results["kernels_pyodide_ms"] = json.loads(
                    python(tiny, "import json\nprint(json.dumps(run_kernels(9)))", stdout=True))
                native = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_kernels_code.py")],
                                        stdout=subprocess.PIPE, universal_newlines=True, check=True,
                                        env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                             "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
                results["kernels_native_ms"] = json.loads(native.stdout)
            if args.layers:
                results["layers_pyodide_ms"] = json.loads(
                    python(tiny, "import json\nprint(json.dumps(bench_layers()))", stdout=True))
            ctx.close()
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(bench_dir, ignore_errors=True)

    return finish(results, foreign, args)


def finish(results, foreign: List[str], args) -> int:
    results["foreign_requests"] = foreign
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if foreign:
        print("WARNING: requests left 127.0.0.1: %s" % foreign[:5], file=sys.stderr)
        return 1
    return 0


def print_intent(intent) -> None:
    print("Intent -> first result (pointer over the first cell, then the convolution example; medians): "
          "cold %.0f ms, warm (returning reader) %.0f ms; runtime files requested before the intent: %d; "
          "byte-code cache on the warm loads: %s"
          % (intent["cold_first_result"], intent["warm_first_result"], intent["runtime_requests_before_intent"],
             ", ".join(intent["warm_bytecode_cache"])))


def print_startup(start) -> None:
    print("Startup, navigation -> first cell result (medians): cold %.0f ms (ready %.0f); warm, returning "
          "reader (persistent profile) %.0f ms (ready %.0f), target <= 3000 ms; the same without the "
          "byte-code cache %.0f ms; warm in an in-memory (incognito) context %.0f ms"
          % (start["cold_first_result"], start["cold_ready"], start["warm_first_result"], start["warm_ready"],
             start["warm_no_bytecode_cache_first_result"], start["warm_memory_context_first_result"]))
    for name in ("warm_timeline", "warm_no_bytecode_cache_timeline"):
        line, previous = [], None
        for key, value in start[name].items():
            line.append("%s %.0f" % (key, value) + ("" if previous is None else " (+%.0f)" % (value - previous)))
            previous = value
        print("  %s (ms since navigation): %s" % (name.replace("_", " "), ", ".join(line)))
    print("  byte-code cache on the warm loads: %s" % ", ".join(start["warm_bytecode_cache"]))


def print_report(results) -> None:
    if "intent_ms" in results:
        print()
        print_intent(results["intent_ms"])
    if "startup_ms" not in results:
        return
    start = results["startup_ms"]
    if "examples_per_second" not in results:
        print()
        print_startup(start)
        return
    eps = results["examples_per_second"]
    ratios = results["ratios"]
    print()
    print("LeNet-like workload, batch 32, median of %d interleaved rounds (examples/s)" % results["rounds"])
    print("  %-28s %10s %10s" % ("", "train", "infer"))
    rows = [("tinycnn in Pyodide 0.17", eps["tinycnn_train"], eps["tinycnn_infer"]),
            ("ConvNetJS 0.3.0", eps["convnetjs_train"], eps["convnetjs_infer"]),
            ("TF.js 4.22 cpu", eps["tfjs_cpu_train"], eps["tfjs_cpu_infer"]),
            ("TF.js 4.22 wasm", None, eps["tfjs_wasm_infer"])]
    for name, train, infer in rows:
        print("  %-28s %10s %10.0f" % (name, "-" if train is None else "%.0f" % train, infer))
    print("  tinycnn training / ConvNetJS: %.2fx (target >= 4.5x)" % ratios["train_vs_convnetjs"])
    print("  tinycnn training / TF.js cpu: %.2fx" % ratios["train_vs_tfjs_cpu"])
    print("  tinycnn inference / TF.js wasm: %.2fx (target >= 0.2x)" % ratios["infer_vs_tfjs_wasm"])
    print_startup(start)
    if "layers_pyodide_ms" in results:
        print()
        print("Inference forward per layer in Pyodide, median ms per batch of 32:")
        for name, ms in results["layers_pyodide_ms"].items():
            print("  %-46s %7.2f" % (name, ms))
    if "kernels_pyodide_ms" in results:
        print()
        print("Conv formulations, median ms (Pyodide 0.17 | native NumPy, 1 thread):")
        for layer, operations in results["kernels_pyodide_ms"].items():
            for operation, timings in operations.items():
                best = min(timings, key=timings.get)
                native = results["kernels_native_ms"][layer][operation]
                cells = ", ".join("%s %.1f | %.1f" % (name, value, native[name]) for name, value in timings.items())
                print("  %s %-12s best in Pyodide: %-16s (%s)" % (layer, operation, best, cells))


if __name__ == "__main__":
    sys.exit(main())
