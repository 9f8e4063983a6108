// Writes data/mnist-sample/: the first 100 shuffled digits of the shipped MNIST set as gzip
// IDX files, so the IDX reader is tested on real files in the original format.
// Usage: npx tsx scripts/make-sample-data.ts
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { encodeIdx, loadMnistDigits, splitTrainTest } from "../lib/src/data";

const COUNT = 100;
const outDir = path.join(__dirname, "..", "data", "mnist-sample");

const { test } = splitTrainTest(loadMnistDigits(), { seed: 0, testFraction: 0.2 });
const pixels = new Uint8Array(COUNT * 784);
// The mnist package stores pixel / 255 rounded to 3 decimals, so rounding recovers the byte
for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(test.images[i] * 255);
const files = {
  "images-idx3-ubyte.gz": encodeIdx({
    dtype: "uint8",
    shape: [COUNT, 28, 28],
    data: pixels,
  }),
  "labels-idx1-ubyte.gz": encodeIdx({
    dtype: "uint8",
    shape: [COUNT],
    data: test.labels.slice(0, COUNT),
  }),
};
fs.mkdirSync(outDir, { recursive: true });
const sums: string[] = [];
for (const [name, raw] of Object.entries(files)) {
  // mtime 0 in the gzip header keeps the output byte-for-byte reproducible
  const gz = zlib.gzipSync(raw, { level: 9 });
  gz.writeUInt32LE(0, 4);
  fs.writeFileSync(path.join(outDir, name), gz);
  sums.push(`${crypto.createHash("sha256").update(gz).digest("hex")}  ${name}`);
}
fs.writeFileSync(path.join(outDir, "SHA256SUMS"), sums.join("\n") + "\n");
console.log(`wrote ${Object.keys(files).length} files to ${outDir}`);
