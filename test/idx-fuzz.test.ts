import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { AekitError } from "../lib/src/core/errors";
import { makeRng, Rng } from "../lib/src/core/random";
import { parseIdx } from "../lib/src/data/idx";

const SAMPLE = path.join(__dirname, "..", "data", "mnist-sample", "images-idx3-ubyte.gz");
const CASES_PER_FORMAT = 2500;

/** Applies one random mutation: flip bytes, truncate, extend, or overwrite the header. */
function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = Uint8Array.from(bytes);
  const pick = (n: number) => Math.floor(rng() * n);
  switch (pick(5)) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) out[pick(out.length)] ^= 1 << pick(8);
      return out;
    }
    case 1:
      return out.subarray(0, pick(out.length));
    case 2: {
      const longer = new Uint8Array(out.length + 1 + pick(64));
      longer.set(out);
      for (let i = out.length; i < longer.length; i++) longer[i] = pick(256);
      return longer;
    }
    case 3: {
      // rewrite the header region, where sizes and types live
      for (let i = 0; i < 16 && i < out.length; i++) if (rng() < 0.3) out[i] = pick(256);
      return out;
    }
    default: {
      const start = pick(out.length);
      out.fill(pick(256), start, Math.min(out.length, start + 1 + pick(32)));
      return out;
    }
  }
}

function fuzz(
  original: Uint8Array,
  seed: number,
): { accepted: number; rejected: number } {
  const rng = makeRng(seed);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < CASES_PER_FORMAT; i++) {
    const input = mutate(original, rng);
    try {
      const array = parseIdx(input, `case ${i}`);
      // anything accepted must be self-consistent
      assert.equal(
        array.data.length,
        array.shape.reduce((a, b) => a * b, 1),
      );
      accepted++;
    } catch (err) {
      if (!(err instanceof AekitError)) {
        assert.fail(`case ${i} threw ${(err as Error).name}: ${(err as Error).message}`);
      }
      rejected++;
    }
  }
  return { accepted, rejected };
}

describe("parseIdx fuzzing", () => {
  it(`throws only AekitError on ${CASES_PER_FORMAT} mutated gzip files`, () => {
    const counts = fuzz(fs.readFileSync(SAMPLE), 11);
    assert.equal(counts.accepted + counts.rejected, CASES_PER_FORMAT);
    assert.ok(counts.rejected > 0);
  });

  it(`throws only AekitError on ${CASES_PER_FORMAT} mutated raw files`, () => {
    const counts = fuzz(zlib.gunzipSync(fs.readFileSync(SAMPLE)), 12);
    assert.equal(counts.accepted + counts.rejected, CASES_PER_FORMAT);
    assert.ok(counts.rejected > 0);
  });
});
