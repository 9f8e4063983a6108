"""Print the reference values of test/signal-*.test.ts as TypeScript constants.

Run with numpy 1.24, SciPy 1.10 and OpenCV 4.6 (Debian 12: python3-scipy and
python3-opencv):

    python3 test/oracles/signal_oracles.py

and paste each block into the test file named in its heading. The tests themselves do
not need Python.
"""
import cv2
import numpy as np
import scipy
import scipy.signal as ss

MODES = ("full", "same", "valid")


def ts(value):
    """Format a number or nested list as a TypeScript literal, exactly for float64."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(ts(v) for v in value) + "]"
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def block(title):
    print(f"\n// ---- {title}")


print(f"// numpy {np.__version__}, scipy {scipy.__version__}, opencv {cv2.__version__}")

# 1-D: an odd and an even signal; kernels of length 1, 2, 3, 4 and 7 (longer than both)
SIGNALS = {"x5": [2, -1, 3, 0, 4], "x6": [3, -1, 4, 1, -5, 9]}
KERNELS = {
    "h1": [3],
    "h2": [1, -2],
    "h3": [2, 0, -1],
    "h4": [1, 2, -1, 3],
    "h7": [1, -1, 2, -2, 3, -3, 4],
}
block("signal-convolve.test.ts: scipy.signal.convolve and correlate, method='direct'")
print("const SCIPY_1D: Record<string, Record<Mode, { convolve: number[]; correlate: number[] }>> = {")
for xn, x in SIGNALS.items():
    for hn, h in KERNELS.items():
        print(f'  "{xn},{hn}": {{')
        for mode in MODES:
            conv = ss.convolve(x, h, mode, method="direct")
            corr = ss.correlate(x, h, mode, method="direct")
            assert np.allclose(conv, ss.convolve(x, h, mode, method="fft"))
            assert np.allclose(corr, ss.correlate(x, h, mode, method="fft"))
            print(f"    {mode}: {{ convolve: {ts(list(conv))}, correlate: {ts(list(corr))} }},")
        print("  },")
print("};")

block("signal-convolve.test.ts: scipy.signal.correlation_lags")
print("const SCIPY_LAGS: Record<string, number[]> = {")
for n1, n2 in ((5, 3), (6, 4), (5, 4), (3, 2), (3, 7), (6, 7), (1, 1)):
    for mode in MODES:
        print(f'  "{n1},{n2},{mode}": {ts(list(ss.correlation_lags(n1, n2, mode)))},')
print("};")

# 2-D: a 4 x 5 image; kernels 1x1, 2x2 (even), 3x3 (odd), 2x3 (mixed), 5x6 (larger)
IMAGE = [[3, 1, -2, 0, 4], [1, 5, 2, -1, 2], [0, -3, 4, 6, 1], [2, 2, -1, 3, 5]]
KERNELS_2D = {
    "k11": [[2]],
    "k22": [[1, -1], [2, 0]],
    "k33": [[0, 1, 0], [1, -4, 1], [0, 1, 2]],
    "k23": [[1, 2, 3], [-1, 0, 1]],
    "k56": [
        [1, 0, 2, -1, 0, 1],
        [0, 3, 1, 0, -2, 0],
        [2, 0, -1, 1, 0, 1],
        [1, 1, 0, 0, 2, -1],
        [0, -1, 1, 2, 0, 3],
    ],
}
block("signal-convolve2d.test.ts: scipy.signal.convolve2d and correlate2d")
print("const SCIPY_2D: Record<string, Record<Mode, { convolve2d: number[][]; correlate2d: number[][] }>> = {")
for kn, k in KERNELS_2D.items():
    print(f"  {kn}: {{")
    for mode in MODES:
        conv = ss.convolve2d(IMAGE, k, mode)
        corr = ss.correlate2d(IMAGE, k, mode)
        print(f"    {mode}: {{")
        print(f"      convolve2d: {ts(conv.tolist())},")
        print(f"      correlate2d: {ts(corr.tolist())},")
        print("    },")
    print("  },")
print("};")
block("signal-convolve2d.test.ts: scipy.signal.correlate (n-dimensional), 'same', k22")
print(f"const SCIPY_CORRELATE_ND_SAME_K22 = {ts(ss.correlate(IMAGE, KERNELS_2D['k22'], 'same').tolist())};")

block("signal-systems.test.ts: scipy.signal.lfilter")
LFILTER = [
    ([1, 2], [1], [3, -1, 4, 1, -5, 9]),
    ([0.5], [1, -0.5], [1, 0, 0, 0, 0, 0]),
    ([1, -1, 0.5], [2, -1, 0.25], [3, -1, 4, 1, -5, 9]),
    ([1, 2, 3, 4, 5, 6, 7, 8], [1, 0.3], [1, -1, 2]),
    ([0.2, 0.2, 0.2, 0.2, 0.2], [1], [1, 1, 1, 1, 1, 1, 1]),
]
print("const SCIPY_LFILTER: { b: number[]; a: number[]; x: number[]; y: number[] }[] = [")
for b, a, x in LFILTER:
    y = ss.lfilter(np.asarray(b, float), np.asarray(a, float), np.asarray(x, float))
    print(f"  {{ b: {ts(b)}, a: {ts(a)}, x: {ts(x)}, y: {ts(list(y))} }},")
print("];")

# template matching on float32 images: a 4 x 4 constant patch, a zero patch, texture
TM_IMAGE = np.array(
    [
        [5, 5, 5, 5, 1, 2, 3],
        [5, 5, 5, 5, 4, 0, 6],
        [5, 5, 5, 5, 7, 8, 1],
        [5, 5, 5, 5, 2, 9, 3],
        [0, 0, 0, 3, 1, 1, 2],
        [0, 0, 0, 4, 0, 6, 5],
    ],
    np.float32,
)
TEMPLATES = {
    "t22": [[1, 2], [3, 0]],
    "t23": [[2, 0, 1], [5, 3, 4]],
    "t33": [[1, 0, 2], [3, 1, 1], [0, 4, 2]],
    "flat": [[4, 4], [4, 4]],
    "zero": [[0, 0], [0, 0]],
}
block("signal-template.test.ts: cv2.matchTemplate on float32 images")
print(f"const TM_IMAGE = {ts(TM_IMAGE.tolist())};")
print("const OPENCV: Record<string, Record<TemplateMethod, number[][]>> = {")
for tn, t in TEMPLATES.items():
    print(f"  {tn}: {{")
    for method in ("TM_CCORR_NORMED", "TM_CCOEFF_NORMED"):
        r = cv2.matchTemplate(TM_IMAGE, np.array(t, np.float32), getattr(cv2, method))
        rows = [[float(f"{v:.7g}") for v in row] for row in r.tolist()]
        print(f"    {method}: {ts(rows)},")
    print("  },")
print("};")

# a window whose sum of squared deviations (0.03) is below OpenCV's flatness threshold
# min(0.5, 10 FLT_EPSILON * 40000) = 0.048, and one above it (0.0675)
NEAR_FLAT = np.full((4, 4), 100, np.float32)
NEAR_FLAT[0, 0] = 100.2
NEAR_FLAT[3, 3] = 100.3
block("signal-template.test.ts: cv2.matchTemplate, near-constant windows")
r = cv2.matchTemplate(NEAR_FLAT, np.array(TEMPLATES["t22"], np.float32), cv2.TM_CCOEFF_NORMED)
print(f"const OPENCV_NEAR_FLAT = {ts([[float(f'{v:.7g}') for v in row] for row in r.tolist()])};")
