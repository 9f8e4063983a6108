import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { CheckFailedError, type CheckResult } from "../lib/src/checks/cases";
import { checkContractivePenalty } from "../lib/src/checks/contractive";
import { checkMaskingNoise } from "../lib/src/checks/corruption";
import { checkCorrelate2dValid } from "../lib/src/checks/correlation";
import { formatList, formatMatrix, formatValue } from "../lib/src/checks/format";
import { checkKlSparsityPenalty } from "../lib/src/checks/sparsity";
import { checkNormalizedCrossCorrelation } from "../lib/src/checks/template";
import { makeRng } from "../lib/src/core/random";
import { klSparsityPenalty } from "../lib/src/losses/sparsity";

/** Runs a checker that must pass, and returns its result and the lines it logged. */
function expectPass(check: (log: (text: string) => void) => CheckResult): {
  result: CheckResult;
  logged: string[];
} {
  const logged: string[] = [];
  const before = tf.memory().numTensors;
  const result = check((text) => logged.push(text));
  assert.equal(tf.memory().numTensors, before, "the checker leaked tensors");
  const failed = result.cases.filter((c) => !c.passed).map((c) => c.feedback);
  assert.deepEqual(failed, []);
  assert.equal(result.passed, true);
  return { result, logged };
}

/** Runs a checker that must fail, and returns the CheckFailedError it throws. */
function expectFailure(check: () => CheckResult): CheckFailedError {
  const before = tf.memory().numTensors;
  let thrown: unknown;
  try {
    check();
  } catch (error) {
    thrown = error;
  }
  assert.equal(tf.memory().numTensors, before, "the checker leaked tensors");
  assert.ok(
    thrown instanceof CheckFailedError,
    `expected a CheckFailedError, got ${thrown}`,
  );
  assert.equal(thrown.result.passed, false);
  assert.equal(thrown.message, thrown.result.report);
  return thrown;
}

function failedNames(error: CheckFailedError): string[] {
  return error.result.cases.filter((c) => !c.passed).map((c) => c.name);
}

/** Asserts that every case threw "Error: not implemented" and that the message reports it. */
function assertNotImplemented(error: CheckFailedError): void {
  for (const c of error.result.cases) {
    assert.equal(c.passed, false, c.name);
    assert.equal(c.error, "Error: not implemented", c.name);
    assert.match(c.feedback, /threw: {4}Error: not implemented/);
  }
  assert.match(
    error.message,
    /^\w+: \w+ failed all \d+ cases, because each call threw "Error: not implemented"\.\n/,
  );
  assert.match(error.message, /Replace the throw statement with your implementation/);
}

const EPSILON = 2 ** -23;

function klPenalty(rho: number, rhoHat: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const clamped = tf.clipByValue(rhoHat, EPSILON, 1 - EPSILON);
    const active = tf.mul(rho, tf.log(tf.div(rho, clamped)));
    const inactive = tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, clamped))));
    return tf.sum(tf.add(active, inactive)) as tf.Scalar;
  });
}

describe("checkKlSparsityPenalty", () => {
  it("passes a correct penalty and logs a summary", () => {
    const { result, logged } = expectPass((log) =>
      checkKlSparsityPenalty(klPenalty, { log }),
    );

    assert.equal(result.checker, "checkKlSparsityPenalty");
    assert.equal(result.subject, "klPenalty");
    assert.equal(result.cases.length, 10);
    assert.deepEqual(logged, [result.report]);
    assert.match(
      result.report,
      /^checkKlSparsityPenalty: klPenalty passed all 10 cases \(/,
    );
  });

  it("reports the mean in place of the sum", () => {
    const meanPenalty = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar =>
      tf.tidy(() => tf.div(klPenalty(rho, rhoHat), rhoHat.size) as tf.Scalar);
    const error = expectFailure(() => checkKlSparsityPenalty(meanPenalty));

    assert.ok(failedNames(error).includes("three units"));
    assert.ok(!failedNames(error).includes("one unit at the target"));
    const three = error.result.cases.find((c) => c.name === "three units")!;
    assert.match(three.feedback, /input: {4}rho = 0\.05, rhoHat = \[0\.1, 0\.02, 0\.5\]/);
    assert.match(three.feedback, /expected: 0\.5276169/);
    assert.match(three.feedback, /received: 0\.175872/);
    assert.match(three.feedback, /hint: {5}sum the KL divergences over the units/);
    assert.match(error.message, /failed 7 of 10 cases/);
  });

  it("reports a missing clamp at rhoHat 0 and 1", () => {
    const unclamped = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar =>
      tf.tidy(() => {
        const active = tf.mul(rho, tf.log(tf.div(rho, rhoHat)));
        const inactive = tf.mul(1 - rho, tf.log(tf.div(1 - rho, tf.sub(1, rhoHat))));
        return tf.sum(tf.add(active, inactive)) as tf.Scalar;
      });
    const error = expectFailure(() => checkKlSparsityPenalty(unclamped));

    assert.deepEqual(failedNames(error), ["rhoHat exactly 0 and 1 (clamped)"]);
    assert.match(error.message, /received: Infinity/);
    assert.match(error.message, /clamp rhoHat to \[2\^-23, 1 - 2\^-23\]/);
  });

  it("reports a penalty that tf.grad cannot differentiate", () => {
    const viaNumbers = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar =>
      tf.scalar(klSparsityPenalty(rho, Array.from(rhoHat.dataSync())));
    const error = expectFailure(() => checkKlSparsityPenalty(viaNumbers));

    assert.deepEqual(failedNames(error), [
      "gradient: tf.grad agrees with central differences",
    ]);
    assert.match(
      error.message,
      /received: tf\.grad failed: Error: Cannot compute gradient/,
    );
    assert.match(error.message, /dataSync\(\) or arraySync\(\)/);
  });

  it("reports a wrong gradient", () => {
    // the right value with twice the right gradient of KL(0.05 || rhoHat)
    const doubled = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const rhoHat = args[0] as tf.Tensor;
      (args[1] as tf.GradSaveFunc)([rhoHat]);
      return {
        value: klPenalty(0.05, rhoHat as tf.Tensor1D),
        gradFunc: (dy: tf.Tensor, [p]: tf.Tensor[]) =>
          tf.mul(dy, tf.mul(2, tf.add(tf.div(-0.05, p), tf.div(0.95, tf.sub(1, p))))),
      };
    });
    const wrongGradient = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar =>
      rho === 0.05 ? (doubled(rhoHat) as tf.Scalar) : klPenalty(rho, rhoHat);
    const error = expectFailure(() => checkKlSparsityPenalty(wrongGradient));

    assert.deepEqual(failedNames(error), [
      "gradient: tf.grad agrees with central differences",
    ]);
    assert.match(error.message, /relative difference \|g - n\| \/ \|g \+ n\| = 0\.333/);
    assert.match(error.message, /the largest gap is at rhoHat\[3\]: tf\.grad 9\.375/);
  });

  it("reports intermediate tensors left allocated", () => {
    const leaky = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar => {
      const clamped = tf.clipByValue(rhoHat, EPSILON, 1 - EPSILON);
      return tf.tidy(() => klPenalty(rho, clamped));
    };
    const error = expectFailure(() => checkKlSparsityPenalty(leaky));

    assert.deepEqual(failedNames(error), ["leaves no intermediate tensors"]);
    assert.match(error.message, /received: 1 intermediate tensor\(s\) left allocated/);
    assert.match(error.message, /wrap the computation in tf\.tidy/);
  });

  it("reports a stub that throws", () => {
    const stub = (_rho: number, _rhoHat: tf.Tensor1D): tf.Scalar => {
      throw new Error("not implemented");
    };
    assertNotImplemented(expectFailure(() => checkKlSparsityPenalty(stub)));
  });

  it("reports a result that is not a scalar", () => {
    const perUnit = (rho: number, rhoHat: tf.Tensor1D): tf.Scalar =>
      tf.tidy(() => tf.mul(rho, tf.log(tf.div(rho, rhoHat))) as unknown as tf.Scalar);
    const error = expectFailure(() => checkKlSparsityPenalty(perUnit));
    const three = error.result.cases.find((c) => c.name === "three units")!;

    assert.match(three.feedback, /expected: a tf\.Scalar \(a tensor of rank 0\)/);
    assert.match(three.feedback, /received: a float32 tensor of shape \[3\]/);
    assert.match(three.feedback, /reduce the result to one number/);
  });
});

function maskInputs(x: tf.Tensor2D, fraction: number, seed: number): tf.Tensor2D {
  const rng = makeRng(seed);
  const keep = new Float32Array(x.size);
  for (let i = 0; i < keep.length; i++) keep[i] = rng() < fraction ? 0 : 1;
  return tf.tidy(() => tf.mul(x, tf.tensor2d(keep, x.shape)));
}

describe("checkMaskingNoise", () => {
  it("passes a correct masking function", () => {
    const { result, logged } = expectPass((log) =>
      checkMaskingNoise(maskInputs, { log }),
    );

    assert.equal(result.cases.length, 11);
    assert.equal(logged.length, 1);
    assert.match(logged[0], /maskInputs passed all 11 cases/);
  });

  it("reports unseeded noise", () => {
    const unseeded = (x: tf.Tensor2D, fraction: number): tf.Tensor2D =>
      tf.tidy(() => {
        const u = tf.randomUniform(x.shape);
        return tf.mul(x, tf.cast(tf.greaterEqual(u, fraction), "float32"));
      });
    const error = expectFailure(() => checkMaskingNoise(unseeded));

    assert.ok(failedNames(error).includes("the same seed gives the same output"));
    assert.match(error.message, /not from Math\.random or tf\.randomUniform/);
    assert.ok(!failedNames(error).includes("fraction 0 keeps every entry"));
    assert.ok(!failedNames(error).includes("fraction 1 masks every entry"));
  });

  it("reports the mask inverted", () => {
    const inverted = (x: tf.Tensor2D, fraction: number, seed: number): tf.Tensor2D => {
      const rng = makeRng(seed);
      const keep = new Float32Array(x.size);
      for (let i = 0; i < keep.length; i++) keep[i] = rng() >= fraction ? 0 : 1;
      return tf.tidy(() => tf.mul(x, tf.tensor2d(keep, x.shape)));
    };
    const error = expectFailure(() => checkMaskingNoise(inverted));
    const first = error.result.cases.find((c) => c.name === "fraction 0.25")!;

    assert.equal(first.passed, false);
    assert.match(
      first.feedback,
      /expected: 3 x 4\n {12}\[0\.08333334, 0\.1666667, 0, 0\.3333333\]/,
    );
    assert.match(
      first.feedback,
      /detail: {3}\d+ of 12 entries differ; the first is \[0\]\[0\]/,
    );
    assert.match(
      first.feedback,
      /mask the entries where u < fraction, not where u >= fraction/,
    );
  });

  it("reports rescaled entries", () => {
    const dropout = (x: tf.Tensor2D, fraction: number, seed: number): tf.Tensor2D =>
      tf.tidy(() => tf.div(maskInputs(x, fraction, seed), 1 - fraction));
    const error = expectFailure(() => checkMaskingNoise(dropout));

    assert.match(error.message, /does not rescale them by 1 \/ \(1 - fraction\)/);
  });

  it("reports a changed input", function () {
    // dataSync() returns the tensor's own storage on the cpu backend only
    const probe = tf.tensor1d([1]);
    probe.dataSync()[0] = 2;
    const shared = probe.dataSync()[0] === 2;
    probe.dispose();
    if (!shared) this.skip();
    const inPlace = (x: tf.Tensor2D, fraction: number, seed: number): tf.Tensor2D => {
      const rng = makeRng(seed);
      const values = x.dataSync();
      for (let i = 0; i < values.length; i++) if (rng() < fraction) values[i] = 0;
      return tf.tensor2d(values, x.shape);
    };
    const error = expectFailure(() => checkMaskingNoise(inPlace));

    assert.deepEqual(failedNames(error), ["leaves x unchanged"]);
    assert.match(error.message, /copy it \(Float32Array\.from\(x\.dataSync\(\)\)\)/);
  });

  it("reports a stub that throws", () => {
    const stub = (_x: tf.Tensor2D, _fraction: number, _seed: number): tf.Tensor2D => {
      throw new Error("not implemented");
    };
    assertNotImplemented(expectFailure(() => checkMaskingNoise(stub)));
  });
});

function contractive(W: tf.Tensor2D, b: tf.Tensor1D, x: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const h = tf.sigmoid(tf.add(tf.matMul(x, W), b));
    const slope = tf.mul(h, tf.sub(1, h));
    const columnNorms = tf.sum(tf.square(W), 0);
    return tf.mean(tf.sum(tf.mul(tf.square(slope), columnNorms), 1)) as tf.Scalar;
  });
}

describe("checkContractivePenalty", () => {
  it("passes a correct penalty", () => {
    const { result, logged } = expectPass((log) =>
      checkContractivePenalty(contractive, { log }),
    );

    assert.equal(result.cases.length, 10);
    assert.match(logged[0], /contractive passed all 10 cases/);
  });

  it("reports the sum over the batch", () => {
    const summed = (W: tf.Tensor2D, b: tf.Tensor1D, x: tf.Tensor2D): tf.Scalar =>
      tf.tidy(() => tf.mul(contractive(W, b, x), x.shape[0]) as tf.Scalar);
    const error = expectFailure(() => checkContractivePenalty(summed));
    const small = error.result.cases.find(
      (c) => c.name === "4 inputs, 3 hidden units, 2 examples",
    )!;

    assert.equal(small.passed, false);
    assert.match(small.feedback, /input: {4}W = 4 x 3\n {12}\[0\.5, -1, 0\.25\]/);
    assert.match(small.feedback, /expected: 0\.3606683/);
    assert.match(small.feedback, /received: 0\.7213367/);
    assert.match(small.feedback, /average the per-example norms over the batch/);
    assert.ok(!failedNames(error).includes("one example"));
  });

  it("reports slopes that are not squared", () => {
    const unsquared = (W: tf.Tensor2D, b: tf.Tensor1D, x: tf.Tensor2D): tf.Scalar =>
      tf.tidy(() => {
        const h = tf.sigmoid(tf.add(tf.matMul(x, W), b));
        const slope = tf.mul(h, tf.sub(1, h));
        return tf.mean(tf.sum(tf.mul(slope, tf.sum(tf.square(W), 0)), 1)) as tf.Scalar;
      });
    const error = expectFailure(() => checkContractivePenalty(unsquared));

    assert.match(error.message, /square the slopes/);
    assert.ok(!failedNames(error).includes("zero kernel gives 0"));
  });

  it("reports a penalty that tf.grad cannot differentiate", () => {
    const viaNumbers = (W: tf.Tensor2D, b: tf.Tensor1D, x: tf.Tensor2D): tf.Scalar =>
      tf.scalar(tf.tidy(() => contractive(W, b, x).dataSync()[0]));
    const error = expectFailure(() => checkContractivePenalty(viaNumbers));

    assert.deepEqual(failedNames(error), [
      "gradient: tf.grad agrees with central differences (W and b)",
    ]);
  });

  it("reports a stub that throws", () => {
    const stub = (_W: tf.Tensor2D, _b: tf.Tensor1D, _x: tf.Tensor2D): tf.Scalar => {
      throw new Error("not implemented");
    };
    assertNotImplemented(expectFailure(() => checkContractivePenalty(stub)));
  });
});

function correlateValid(image: number[][], kernel: number[][]): number[][] {
  const rows = image.length - kernel.length + 1;
  const cols = image[0].length - kernel[0].length + 1;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      let sum = 0;
      kernel.forEach((row, u) => row.forEach((k, v) => (sum += image[r + u][c + v] * k)));
      return sum;
    }),
  );
}

describe("checkCorrelate2dValid", () => {
  it("passes a correct correlation", () => {
    const { result } = expectPass((log) =>
      checkCorrelate2dValid(correlateValid, { log }),
    );

    assert.equal(result.cases.length, 9);
  });

  it("reports a convolution", () => {
    const convolveValid = (image: number[][], kernel: number[][]) =>
      correlateValid(image, kernel.map((row) => [...row].reverse()).reverse());
    const error = expectFailure(() => checkCorrelate2dValid(convolveValid));
    const first = error.result.cases[0];

    assert.equal(first.passed, false);
    assert.match(first.feedback, /expected: 2 x 2\n {12}\[-4, -4\]\n {12}\[-4, -4\]/);
    assert.match(first.feedback, /received: 2 x 2\n {12}\[4, 4\]\n {12}\[4, 4\]/);
    assert.match(first.feedback, /this is the convolution, which flips the kernel/);
    assert.deepEqual(
      failedNames(error).includes("1 x 1 kernel scales the image"),
      false,
      "a 1 x 1 kernel is its own flip",
    );
  });

  it("reports the wrong output size", () => {
    const oneShort = (image: number[][], kernel: number[][]) =>
      correlateValid(image, kernel).map((row) => row.slice(1));
    const error = expectFailure(() => checkCorrelate2dValid(oneShort));

    assert.equal(failedNames(error).length, 9);
    assert.match(error.message, /detail: {3}the size is 2 x 1, expected 2 x 2/);
    assert.match(error.message, /\(H - kh \+ 1\) x \(W - kw \+ 1\) = 2 x 2 entries/);
  });

  it("reports a changed input", () => {
    const overwrites = (image: number[][], kernel: number[][]) => {
      const out = correlateValid(image, kernel);
      image[0][0] = 99;
      return out;
    };
    const error = expectFailure(() => checkCorrelate2dValid(overwrites));

    assert.match(error.message, /expected: the inputs unchanged by the call/);
    assert.match(error.message, /write the result into a new array/);
  });

  it("reports a stub that throws", () => {
    const stub = (_image: number[][], _kernel: number[][]): number[][] => {
      throw new Error("not implemented");
    };
    assertNotImplemented(expectFailure(() => checkCorrelate2dValid(stub)));
  });
});

/** Normalized cross-correlation by its definition, with 0 for zero variance. */
function ncc(image: number[][], template: number[][], centre = true): number[][] {
  const [h, w] = [template.length, template[0].length];
  const mean = (values: number[]) =>
    centre ? values.reduce((s, v) => s + v, 0) / values.length : 0;
  const t = template.flat();
  const tMean = mean(t);
  return Array.from({ length: image.length - h + 1 }, (_, r) =>
    Array.from({ length: image[0].length - w + 1 }, (_, c) => {
      const window = image.slice(r, r + h).flatMap((row) => row.slice(c, c + w));
      const wMean = mean(window);
      let product = 0;
      let wEnergy = 0;
      let tEnergy = 0;
      window.forEach((v, i) => {
        product += (v - wMean) * (t[i] - tMean);
        wEnergy += (v - wMean) ** 2;
        tEnergy += (t[i] - tMean) ** 2;
      });
      return wEnergy === 0 || tEnergy === 0 ? 0 : product / Math.sqrt(wEnergy * tEnergy);
    }),
  );
}

describe("checkNormalizedCrossCorrelation", () => {
  it("passes a correct score", () => {
    const correct = (image: number[][], template: number[][]) => ncc(image, template);
    const { result } = expectPass((log) =>
      checkNormalizedCrossCorrelation(correct, { log }),
    );

    assert.equal(result.cases.length, 10);
  });

  it("reports NaN for zero variance", () => {
    const unguarded = (image: number[][], template: number[][]) =>
      ncc(image, template).map((row, r) =>
        row.map((v, c) => (v === 0 && image[r][c] === 4 ? NaN : v)),
      );
    const error = expectFailure(() => checkNormalizedCrossCorrelation(unguarded));

    assert.deepEqual(failedNames(error), [
      "constant windows score 0",
      "a constant template scores 0 everywhere",
    ]);
    assert.match(error.message, /received: 3 x 4\n.*\n {12}\[NaN, NaN, /);
    assert.match(error.message, /a window or template with zero variance must score 0/);
  });

  it("reports scores without the means subtracted", () => {
    const uncentred = (image: number[][], template: number[][]) =>
      ncc(image, template, false);
    const error = expectFailure(() => checkNormalizedCrossCorrelation(uncentred));

    assert.match(error.message, /this is TM_CCORR_NORMED, the uncentred score/);
    assert.ok(
      failedNames(error).includes("brightness and contrast (3 I + 5) change no score"),
    );
  });

  it("reports a stub that throws", () => {
    const stub = (_image: number[][], _template: number[][]): number[][] => {
      throw new Error("not implemented");
    };
    assertNotImplemented(expectFailure(() => checkNormalizedCrossCorrelation(stub)));
  });
});

describe("check feedback formatting", () => {
  it("shortens long lists", () => {
    const values = Array.from({ length: 20 }, (_, i) => i);

    assert.equal(formatList(values), "[0, 1, 2, 3, 4, 5, …, 18, 19] (20 entries)");
    assert.equal(formatList([0.1, 1 / 3]), "[0.1, 0.3333333]");
  });

  it("shortens tall matrices", () => {
    const rows = Array.from({ length: 10 }, (_, i) => [i, -i]);

    assert.equal(
      formatMatrix(rows),
      "10 x 2\n[0, 0]\n[1, -1]\n[2, -2]\n[3, -3]\n…\n[9, -9]",
    );
  });

  it("describes received values of any type", () => {
    assert.equal(formatValue(undefined), "undefined");
    assert.equal(formatValue(NaN), "NaN");
    assert.equal(formatValue({}), "an object (Object)");
    const t = tf.tensor1d([1, 2]);
    assert.equal(formatValue(t), "a float32 tensor of shape [2]: [1, 2]");
    t.dispose();
    assert.equal(formatValue(t), "a disposed tensor of shape [2]");
  });

  it("lists at most three failures in detail", () => {
    const wrong = (image: number[][], kernel: number[][]) =>
      correlateValid(image, kernel).map((row) => row.map((v) => v + 1));
    const error = expectFailure(() => checkCorrelate2dValid(wrong));

    assert.equal((error.message.match(/^FAIL /gm) ?? []).length, 3);
    assert.match(error.message, /^Also failed: kernel as large as the image; /m);
  });

  it("reports a function that returns nothing", () => {
    const forgetful = (image: number[][], kernel: number[][]) => {
      correlateValid(image, kernel);
    };
    const error = expectFailure(() =>
      checkCorrelate2dValid(
        forgetful as unknown as (a: number[][], b: number[][]) => number[][],
      ),
    );

    assert.match(
      error.message,
      /received: undefined\n {2}hint: {5}the function returned nothing/,
    );
  });
});
