import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { invalid } from "../core/validate";
import type { Autoencoder } from "./dense";

// The layout of tfjs's own file:// handler (in tfjs-node), so either can read the other's files
const MODEL_FILE = "model.json";
const WEIGHTS_FILE = "weights.bin";

/**
 * Saves a model to `dir` as model.json plus weights.bin, the format of tfjs-node's file://
 * handler. Plain TensorFlow.js registers no file handler in Node, so the kit writes the files.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  if (!(model instanceof tf.LayersModel)) {
    invalid("saveModel", "model", "be a tf.LayersModel", model);
  }
  if (typeof dir !== "string" || dir === "") {
    invalid("saveModel", "dir", "be the path of a folder (a non-empty string)", dir);
  }
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      fs.mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData as ArrayBuffer;
      const manifest = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [
          { paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs },
        ],
      };
      // Write to temporary names, then rename, so an interrupted save leaves the old files whole
      const modelPath = path.join(dir, MODEL_FILE);
      const weightsPath = path.join(dir, WEIGHTS_FILE);
      fs.writeFileSync(weightsPath + ".tmp", Buffer.from(weightData));
      fs.writeFileSync(modelPath + ".tmp", JSON.stringify(manifest));
      fs.renameSync(weightsPath + ".tmp", weightsPath);
      fs.renameSync(modelPath + ".tmp", modelPath);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
}

interface Manifest {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Loads a model that saveModel (or tfjs-node's file:// handler) wrote to `dir`. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelPath = path.join(dir, MODEL_FILE);
  if (!fs.existsSync(modelPath)) {
    throw new AekitError(
      `loadModel: no ${MODEL_FILE} in ${dir}; save a model there first with saveModel`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(modelPath, "utf8")) as Manifest;
  } catch (err) {
    throw new AekitError(
      `loadModel: ${modelPath} is not valid JSON (${(err as Error).message}); save the model again`,
    );
  }
  if (!manifest.modelTopology || !Array.isArray(manifest.weightsManifest)) {
    throw new AekitError(
      `loadModel: ${modelPath} has no modelTopology or weightsManifest; it is not a TensorFlow.js model file`,
    );
  }
  const specs = manifest.weightsManifest.flatMap((group) => group.weights);
  const buffers = manifest.weightsManifest.flatMap((group) =>
    group.paths.map((file) => {
      const full = path.join(dir, file);
      if (!fs.existsSync(full)) {
        throw new AekitError(
          `loadModel: weight file ${full} named in ${MODEL_FILE} is missing`,
        );
      }
      return fs.readFileSync(full);
    }),
  );
  const weightData = Buffer.concat(buffers);
  const bytesPerElement: Record<string, number> = {
    float32: 4,
    int32: 4,
    bool: 1,
    uint8: 1,
    float16: 2,
  };
  const expected = specs.reduce(
    (sum, spec) =>
      sum + spec.shape.reduce((a, b) => a * b, 1) * (bytesPerElement[spec.dtype] ?? 4),
    0,
  );
  if (weightData.length !== expected) {
    throw new AekitError(
      `loadModel: the weights in ${dir} hold ${weightData.length} bytes, but ${MODEL_FILE} declares ` +
        `${expected}; the files are truncated or from different saves`,
    );
  }
  const arrayBuffer = weightData.buffer.slice(
    weightData.byteOffset,
    weightData.byteOffset + weightData.length,
  );
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology as object,
        weightSpecs: specs,
        weightData: arrayBuffer,
      }),
    );
  } catch (err) {
    throw new AekitError(
      `loadModel: ${modelPath} could not be loaded (${(err as Error).message})`,
    );
  }
}

/** Saves an autoencoder (its combined model; the encoder and decoder are layers inside it). */
export async function saveAutoencoder(ae: Autoencoder, dir: string): Promise<void> {
  await saveModel(ae.autoencoder, dir);
}

/** Loads an autoencoder that saveAutoencoder wrote, with its encoder and decoder. */
export async function loadAutoencoder(dir: string): Promise<Autoencoder> {
  const autoencoder = await loadModel(dir);
  const part = (name: string) => {
    const layer = autoencoder.layers.find((l) => l.name === name);
    if (!(layer instanceof tf.LayersModel)) {
      throw new AekitError(
        `loadAutoencoder: the model in ${dir} has no '${name}' submodel; was it saved with saveAutoencoder?`,
      );
    }
    return layer;
  };
  return { encoder: part("encoder"), decoder: part("decoder"), autoencoder };
}
