"""Run the workloads of `npm run bench` in PyTorch, scipy and OpenCV, for comparison.

usage: python3 scripts/bench_reference.py [--json] [--quick] [--only NAME]...

The workloads, schedules and units match scripts/bench-workloads.ts, so a change there
needs the same change here. Each workload runs in a fresh Python process of its own, so
its peak resident memory is its own. A workload whose module (torch, scipy, cv2, skimage) is missing is
skipped with a message on stderr and listed under "skipped" in the JSON object.
`npm run bench -- --reference` runs this script with Debian's /usr/bin/python3, where
`apt-get install python3-torch python3-scipy python3-opencv` puts the modules.
"""

import os

# The thread pools are sized when torch and numpy load, so these are set first. PyTorch
# runs 2 OpenMP threads, and OpenBLAS, which serves its matrix products on Debian, keeps
# its own pool at 1 thread, so that the two pools do not both start 2 threads on 2 cores.
THREAD_SETTINGS = {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(THREAD_SETTINGS)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

WORKLOADS = [
    "dense-ae.train",
    "conv-ae.train",
    "contractive-ae.train",
    "dense-ae.infer",
    "correlate2d",
    "correlate",
    "matchTemplate",
]
TORCH_THREADS = 2
SEED = 1
IMAGE_SIZE = 28
PIXELS = IMAGE_SIZE * IMAGE_SIZE
FULL_SCHEDULE = {"warmup": 2, "steps": 32, "repeats": 5}
QUICK_SCHEDULE = {"warmup": 1, "steps": 2, "repeats": 2}


def log(message):
    print(f"bench_reference: {message}", file=sys.stderr, flush=True)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def result(repeats, unit, tool):
    return {
        "value": statistics.median(repeats),
        "unit": unit,
        "tool": tool,
        "repeats": repeats,
        "peakRssMiB": peak_rss_mib(),
    }


def time_calls(call, schedule):
    """Call `call` warm-up times, then return its milliseconds per call in each repeat."""
    for _ in range(schedule["warmup"]):
        call()
    milliseconds = []
    for _ in range(schedule["repeats"]):
        start = time.perf_counter()
        for _ in range(schedule["steps"]):
            call()
        milliseconds.append((time.perf_counter() - start) * 1000 / schedule["steps"])
    return milliseconds


# PyTorch workloads


def dense_autoencoder(nn):
    return nn.Sequential(
        nn.Linear(PIXELS, 128), nn.ReLU(),
        nn.Linear(128, 32), nn.ReLU(),
        nn.Linear(32, 128), nn.ReLU(),
        nn.Linear(128, PIXELS), nn.Sigmoid(),
    )  # fmt: skip


def conv_autoencoder(nn):
    # PyTorch's layout is [batch, channels, height, width]
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
    )  # fmt: skip


class ContractiveAutoencoder:
    """784 -> 64 sigmoid -> 784 sigmoid, with the closed-form contractive penalty."""

    def __init__(self, torch):
        self.torch = torch
        self.encoder = torch.nn.Linear(PIXELS, 64)
        self.decoder = torch.nn.Linear(64, PIXELS)

    def parameters(self):
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def loss(self, x):
        torch = self.torch
        h = torch.sigmoid(self.encoder(x))
        output = torch.sigmoid(self.decoder(h))
        reconstruction = torch.nn.functional.mse_loss(output, x)
        # A Linear weight is [out, in], so row j contains the weights into hidden unit j
        weight_norms = self.encoder.weight.pow(2).sum(dim=1)
        penalty = ((h * (1 - h)).pow(2) * weight_norms).sum(dim=1).mean()
        return reconstruction + 1e-4 * penalty


def time_training(torch, parameters, loss_of_batch, x, batch_size, schedule):
    """Train one epoch of `steps` batches per repeat and return samples/s of each."""
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    generator = torch.Generator().manual_seed(SEED)
    count = x.shape[0]

    def epoch():
        order = torch.randperm(count, generator=generator)
        for start in range(0, count, batch_size):
            batch = x[order[start : start + batch_size]]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_of_batch(batch)
            loss.backward()
            optimizer.step()
        return loss.item()

    for _ in range(schedule["warmup"]):
        epoch()
    throughputs = []
    for _ in range(schedule["repeats"]):
        start = time.perf_counter()
        epoch()
        throughputs.append(count / (time.perf_counter() - start))
    return throughputs


def run_torch(name, schedule):
    import torch

    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(SEED)
    tool = f"torch {torch.__version__}"
    mse = torch.nn.functional.mse_loss

    if name == "dense-ae.infer":
        batch_size = 1024
        model = dense_autoencoder(torch.nn)
        x = torch.rand(batch_size, PIXELS)

        def call():
            with torch.inference_mode():
                model(x)

        milliseconds = time_calls(call, schedule)
        throughputs = [batch_size / (ms / 1000) for ms in milliseconds]
        return {name: result(throughputs, "samples/s", tool)}

    if name == "dense-ae.train":
        batch_size = 128
        model = dense_autoencoder(torch.nn)
        x = torch.rand(schedule["steps"] * batch_size, PIXELS)
        parameters = model.parameters()
        loss_of_batch = lambda batch: mse(model(batch), batch)  # noqa: E731
    elif name == "conv-ae.train":
        batch_size = 64
        model = conv_autoencoder(torch.nn)
        x = torch.rand(schedule["steps"] * batch_size, 1, IMAGE_SIZE, IMAGE_SIZE)
        parameters = model.parameters()
        loss_of_batch = lambda batch: mse(model(batch), batch)  # noqa: E731
    else:
        batch_size = 128
        model = ContractiveAutoencoder(torch)
        x = torch.rand(schedule["steps"] * batch_size, PIXELS)
        parameters = model.parameters()
        loss_of_batch = model.loss
    throughputs = time_training(torch, parameters, loss_of_batch, x, batch_size, schedule)
    return {name: result(throughputs, "samples/s", tool)}


# Signal workloads


def run_correlate2d(schedule):
    import numpy as np
    import scipy
    import scipy.signal

    rng = np.random.default_rng(SEED)
    image = rng.random((512, 512))
    kernel = rng.random((15, 15))
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    direct = time_calls(lambda: scipy.signal.correlate2d(image, kernel, "valid"), schedule)
    fft = time_calls(lambda: scipy.signal.fftconvolve(image, flipped, "valid"), schedule)
    version = scipy.__version__
    return {
        "correlate2d": result(direct, "ms/call", f"scipy.signal.correlate2d {version}"),
        "correlate2d.fftconvolve": result(
            fft, "ms/call", f"scipy.signal.fftconvolve {version}"
        ),
    }


def run_correlate(schedule):
    import numpy as np
    import scipy
    import scipy.signal

    rng = np.random.default_rng(SEED)
    signal = rng.random(1_000_000)
    taps = rng.random(101)
    call = lambda: scipy.signal.correlate(signal, taps, "valid", method="direct")  # noqa: E731
    tool = f"scipy.signal.correlate direct {scipy.__version__}"
    return {"correlate": result(time_calls(call, schedule), "ms/call", tool)}


def run_match_template(schedule, skipped):
    import numpy as np

    rng = np.random.default_rng(SEED)
    # OpenCV's matchTemplate takes 8-bit or float32 images
    image = rng.random((512, 512)).astype(np.float32)
    template = np.ascontiguousarray(image[200:232, 300:332])
    results = {}
    try:
        import cv2
    except ImportError as error:
        skipped["matchTemplate"] = f"cv2 (OpenCV) is not installed: {error}"
    else:
        call = lambda: cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)  # noqa: E731
        tool = f"cv2.matchTemplate TM_CCOEFF_NORMED {cv2.__version__}"
        results["matchTemplate"] = result(time_calls(call, schedule), "ms/call", tool)
    try:
        import skimage
        import skimage.feature
    except ImportError as error:
        skipped["matchTemplate.skimage"] = f"skimage is not installed: {error}"
    else:
        call = lambda: skimage.feature.match_template(image, template)  # noqa: E731
        tool = f"skimage.feature.match_template {skimage.__version__}"
        results["matchTemplate.skimage"] = result(time_calls(call, schedule), "ms/call", tool)
    return results


def run_worker(name, schedule):
    """Run one workload in this process and return its results and what was skipped."""
    skipped = {}
    try:
        if name.endswith(".train") or name.endswith(".infer"):
            results = run_torch(name, schedule)
        elif name == "correlate2d":
            results = run_correlate2d(schedule)
        elif name == "correlate":
            results = run_correlate(schedule)
        else:
            results = run_match_template(schedule, skipped)
    except ImportError as error:
        results = {}
        skipped[name] = f"{error.name or 'a module'} is not installed: {error}"
    return {"results": results, "skipped": skipped, "versions": module_versions()}


def module_versions():
    """Versions of the reference modules that this process has loaded."""
    versions = {}
    for module in ["torch", "numpy", "scipy", "cv2", "skimage"]:
        if module in sys.modules:
            versions[module] = getattr(sys.modules[module], "__version__", None)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        versions["torch.threads"] = torch.get_num_threads()
        versions["torch.interopThreads"] = torch.get_num_interop_threads()
    if "cv2" in sys.modules:
        versions["cv2.threads"] = sys.modules["cv2"].getNumThreads()
    return versions


def run_in_child(name, quick):
    command = [sys.executable, os.path.abspath(__file__), "--worker", name]
    if quick:
        command.append("--quick")
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        raise RuntimeError(
            f"workload {name} failed with exit status {completed.returncode}; "
            "see its output above"
        )
    return json.loads(completed.stdout)


def format_value(value, unit):
    return f"{value:,.0f}" if unit == "samples/s" else f"{value:.3g}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--only", action="append", choices=WORKLOADS, metavar="NAME",
        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a few steps per workload")
    parser.add_argument("--worker", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    schedule = QUICK_SCHEDULE if args.quick else FULL_SCHEDULE

    if args.worker:
        print(json.dumps(run_worker(args.worker, schedule)))
        return

    load_start = os.getloadavg()
    results, skipped, versions = {}, {}, {}
    for name in [w for w in WORKLOADS if not args.only or w in args.only]:
        log(f"running {name}")
        output = run_in_child(name, args.quick)
        results.update(output["results"])
        skipped.update(output["skipped"])
        versions.update(output["versions"])
        for skipped_name in output["skipped"]:
            log(f"skipped {skipped_name}: {output['skipped'][skipped_name]}")
    environment = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "cpus": os.cpu_count(),
        "threadSettings": THREAD_SETTINGS,
        "versions": versions,
        "schedule": schedule,
        "loadAverage": {"start": load_start, "end": os.getloadavg()},
    }

    if args.json:
        print(json.dumps({"environment": environment, "results": results, "skipped": skipped}))
        return
    for name, entry in results.items():
        value = format_value(entry["value"], entry["unit"])
        print(f"{name:24} {value:>10} {entry['unit']:10} {entry['tool']}")
    for name, why in skipped.items():
        print(f"{name:24} skipped: {why}")


if __name__ == "__main__":
    main()
