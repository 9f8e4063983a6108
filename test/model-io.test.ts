import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { denseAutoencoder } from "../lib/src/models/dense";
import {
  loadAutoencoder,
  loadModel,
  saveAutoencoder,
  saveModel,
} from "../lib/src/models/io";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "aekit-model-"));
}

describe("saveAutoencoder and loadAutoencoder", () => {
  it("round-trip the weights and the outputs", async () => {
    const ae = denseAutoencoder({ inputDim: 20, codeSize: 3, hiddenUnits: [8], seed: 4 });
    const dir = tempDir();
    await saveAutoencoder(ae, dir);
    const loaded = await loadAutoencoder(dir);
    const before = ae.autoencoder.getWeights().map((w) => Array.from(w.dataSync()));
    const after = loaded.autoencoder.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(after, before);
    const x = tf.randomUniform([5, 20], 0, 1, "float32", 1);
    const codeBefore = (ae.encoder.predict(x) as tf.Tensor).arraySync();
    const codeAfter = (loaded.encoder.predict(x) as tf.Tensor).arraySync();
    assert.deepEqual(codeAfter, codeBefore);
    assert.deepEqual(loaded.decoder.outputs[0].shape, [null, 20]);
    ae.autoencoder.dispose();
    loaded.autoencoder.dispose();
  });

  it("saveModel rejects a non-model", async () => {
    await assert.rejects(
      saveModel({} as tf.LayersModel, os.tmpdir()),
      /^AekitError: saveModel: model must be a tf.LayersModel, got an object \(Object\)$/,
    );
  });

  it("throws when the folder has no model", async () => {
    const dir = tempDir();
    await assert.rejects(
      loadAutoencoder(dir),
      new RegExp(`loadModel: no model\\.json in ${dir}; save a model there first`),
    );
  });

  it("throws when model.json is corrupt", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "model.json"), "{ not json");
    await assert.rejects(loadModel(dir), /model\.json is not valid JSON/);
  });

  it("throws when model.json is not a model", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "model.json"), "{}");
    await assert.rejects(loadModel(dir), /has no modelTopology or weightsManifest/);
  });

  it("throws when the weights are truncated", async () => {
    const ae = denseAutoencoder({ inputDim: 10, codeSize: 2 });
    const dir = tempDir();
    await saveAutoencoder(ae, dir);
    const weights = path.join(dir, "weights.bin");
    fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 40));
    await assert.rejects(
      loadModel(dir),
      /hold 40 bytes, but model\.json declares \d+; the files are truncated/,
    );
    ae.autoencoder.dispose();
  });

  it("throws when the weight file is missing", async () => {
    const ae = denseAutoencoder({ inputDim: 10, codeSize: 2 });
    const dir = tempDir();
    await saveAutoencoder(ae, dir);
    fs.rmSync(path.join(dir, "weights.bin"));
    await assert.rejects(
      loadModel(dir),
      /weight file .*weights\.bin named in model\.json is missing/,
    );
    ae.autoencoder.dispose();
  });
});

describe("loadModel and saveModel checks", () => {
  let dir: string;
  let manifest: {
    modelTopology: unknown;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  before(async () => {
    const ae = denseAutoencoder({ inputDim: 4, codeSize: 2, seed: 1 });
    dir = tempDir();
    await saveModel(ae.autoencoder, dir);
    manifest = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
    ae.autoencoder.dispose();
  });

  /** Copies the saved model to a new folder with `contents` as its model.json. */
  function withManifest(contents: unknown): string {
    const copy = tempDir();
    fs.copyFileSync(path.join(dir, "weights.bin"), path.join(copy, "weights.bin"));
    fs.writeFileSync(path.join(copy, "model.json"), JSON.stringify(contents));
    return copy;
  }

  it("loadModel rejects a non-string dir", async () => {
    await assert.rejects(
      loadModel(5 as unknown as string),
      /^AekitError: loadModel: dir must be the path of a folder \(a non-empty string\), got 5$/,
    );
  });

  it("throws when model.json contains null", async () => {
    await assert.rejects(
      loadModel(withManifest(null)),
      /loadModel: the top-level value in .*model\.json must be an object \{ modelTopology, weightsManifest \}, got null; the file is damaged/,
    );
  });

  it("throws when paths is a string", async () => {
    const weightsManifest = [{ ...manifest.weightsManifest[0], paths: "x" }];
    await assert.rejects(
      loadModel(withManifest({ ...manifest, weightsManifest })),
      /loadModel: weightsManifest\[0\]\.paths in .*model\.json must be an array of file names, got "x"/,
    );
  });

  it("throws when weights is null", async () => {
    const weightsManifest = [{ ...manifest.weightsManifest[0], weights: null }];
    await assert.rejects(
      loadModel(withManifest({ ...manifest, weightsManifest })),
      /loadModel: weightsManifest\[0\]\.weights in .*model\.json must be an array of weight entries \{ name, shape, dtype \}, got null/,
    );
  });

  it("throws when a weight group is null", async () => {
    await assert.rejects(
      loadModel(withManifest({ ...manifest, weightsManifest: [null] })),
      /loadModel: weightsManifest\[0\] in .*model\.json must be an object \{ paths, weights \}, got null/,
    );
  });

  it("rejects a weight path outside the folder", async () => {
    const paths = [`../${path.basename(dir)}/weights.bin`];
    const weightsManifest = [{ ...manifest.weightsManifest[0], paths }];
    await assert.rejects(
      loadModel(withManifest({ ...manifest, weightsManifest })),
      /loadModel: weight file ".*weights\.bin" named in model\.json must be inside the model folder .*, got .*; keep the weight files next to model\.json/,
    );
  });

  it("rejects NaN weights, naming the weight", async () => {
    const copy = withManifest(manifest);
    const bytes = fs.readFileSync(path.join(copy, "weights.bin"));
    bytes.writeFloatLE(NaN, 0);
    fs.writeFileSync(path.join(copy, "weights.bin"), bytes);
    const first = manifest.weightsManifest[0].weights[0].name;
    const before = tf.memory().numTensors;
    await assert.rejects(
      loadModel(copy),
      new RegExp(
        `loadModel: weight '${first}' in .* must contain only finite values, got NaN at flat index 0`,
      ),
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("frees every tensor when a weight name is unknown", async () => {
    const weights = manifest.weightsManifest[0].weights.map((spec, i) =>
      i === 0 ? { ...spec, name: "bogus" } : spec,
    );
    const weightsManifest = [{ ...manifest.weightsManifest[0], weights }];
    const copy = withManifest({ ...manifest, weightsManifest });
    const before = tf.memory().numTensors;
    await assert.rejects(
      loadModel(copy),
      /loadModel: .*model\.json could not be loaded \(.*bogus/,
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("saveModel rejects a path to an existing file", async () => {
    const file = path.join(tempDir(), "f.txt");
    fs.writeFileSync(file, "not a folder");
    const { autoencoder } = denseAutoencoder({ inputDim: 4, codeSize: 2 });
    await assert.rejects(
      saveModel(autoencoder, file),
      /saveModel: dir must be the path of a folder, got the existing file .*f\.txt; choose a folder path/,
    );
    autoencoder.dispose();
  });
});
