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
