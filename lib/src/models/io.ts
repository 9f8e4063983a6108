import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { AekitError, describeValue } from "../core/errors";
import { firstNonFinite, invalid } from "../core/validate";
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
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new AekitError(
      `saveModel: dir must be the path of a folder, got the existing file ${dir}; ` +
        "choose a folder path, or remove the file",
    );
  }
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw new AekitError(
          `saveModel: failed to create the folder ${dir} (${(err as Error).message})`,
        );
      }
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

// Bytes per element of each dtype a weights manifest may declare
const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  float16: 2,
};

interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** Builds the error for a part of model.json that does not have the expected layout. */
function manifestError(
  modelPath: string,
  part: string,
  rule: string,
  value: unknown,
): AekitError {
  return new AekitError(
    `loadModel: ${part} in ${modelPath} must ${rule}, got ${describeValue(value)}; ` +
      "the file is damaged or not a TensorFlow.js model file, so save the model again",
  );
}

/** Checks one weight entry: a name, a shape of sizes and a known dtype. */
function checkWeightSpec(modelPath: string, where: string, spec: unknown): void {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw manifestError(modelPath, where, "be an object { name, shape, dtype }", spec);
  }
  const { name, shape, dtype } = spec as Partial<tf.io.WeightsManifestEntry>;
  if (typeof name !== "string") {
    throw manifestError(modelPath, `${where}.name`, "be a string", name);
  }
  const sizesValid =
    Array.isArray(shape) &&
    shape.every((size) => Number.isInteger(size) && (size as number) >= 0);
  if (!sizesValid) {
    throw manifestError(
      modelPath,
      `${where}.shape`,
      "be an array of integers >= 0",
      shape,
    );
  }
  if (typeof dtype !== "string" || !(dtype in BYTES_PER_ELEMENT)) {
    const dtypes = Object.keys(BYTES_PER_ELEMENT).join(", ");
    throw manifestError(modelPath, `${where}.dtype`, `be one of ${dtypes}`, dtype);
  }
}

/**
 * Reads model.json and checks its layout: an object with a modelTopology and a
 * weightsManifest of groups, each with weight file paths and weight entries.
 */
function readManifest(modelPath: string): { topology: object; groups: WeightGroup[] } {
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(modelPath, "utf8"));
  } catch (err) {
    throw new AekitError(
      `loadModel: ${modelPath} is not valid JSON (${(err as Error).message}); save the model again`,
    );
  }
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
    throw manifestError(
      modelPath,
      "the top-level value",
      "be an object { modelTopology, weightsManifest }",
      manifest,
    );
  }
  const { modelTopology, weightsManifest } = manifest as {
    modelTopology?: unknown;
    weightsManifest?: unknown;
  };
  if (!modelTopology || !Array.isArray(weightsManifest)) {
    throw new AekitError(
      `loadModel: ${modelPath} has no modelTopology or weightsManifest; it is not a TensorFlow.js model file`,
    );
  }

  weightsManifest.forEach((group: unknown, g) => {
    const where = `weightsManifest[${g}]`;
    if (typeof group !== "object" || group === null || Array.isArray(group)) {
      throw manifestError(modelPath, where, "be an object { paths, weights }", group);
    }
    const { paths, weights } = group as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !paths.every((file) => typeof file === "string")) {
      throw manifestError(
        modelPath,
        `${where}.paths`,
        "be an array of file names",
        paths,
      );
    }
    if (!Array.isArray(weights)) {
      const rule = "be an array of weight entries { name, shape, dtype }";
      throw manifestError(modelPath, `${where}.weights`, rule, weights);
    }
    weights.forEach((spec, w) =>
      checkWeightSpec(modelPath, `${where}.weights[${w}]`, spec),
    );
  });
  return { topology: modelTopology as object, groups: weightsManifest as WeightGroup[] };
}

/**
 * Reads the weight files that the manifest names. Each path must stay inside `dir`, so
 * a model.json cannot make the kit read other files on the machine.
 */
function readWeightFiles(dir: string, groups: WeightGroup[]): Buffer {
  const root = path.resolve(dir);
  const buffers = groups.flatMap((group) =>
    group.paths.map((file) => {
      const full = path.resolve(root, file);
      const relative = path.relative(root, full);
      if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
        throw new AekitError(
          `loadModel: weight file ${JSON.stringify(file)} named in ${MODEL_FILE} must be ` +
            `inside the model folder ${dir}, got ${full}; keep the weight files next to ${MODEL_FILE}`,
        );
      }
      if (!fs.existsSync(full)) {
        throw new AekitError(
          `loadModel: weight file ${full} named in ${MODEL_FILE} is missing`,
        );
      }
      try {
        return fs.readFileSync(full);
      } catch (err) {
        throw new AekitError(
          `loadModel: failed to read weight file ${full} (${(err as Error).message})`,
        );
      }
    }),
  );
  return Buffer.concat(buffers);
}

/** Checks that every value of the float weights is finite, naming the first bad weight. */
function checkFiniteWeights(dir: string, weights: tf.NamedTensorMap): void {
  for (const [name, tensor] of Object.entries(weights)) {
    if (tensor.dtype !== "float32") continue;
    const found = firstNonFinite(tensor);
    if (found === null) continue;
    throw new AekitError(
      `loadModel: weight '${name}' in ${dir} must contain only finite values, got ` +
        `${found.value} at flat index ${found.index}; the model diverged before it was saved ` +
        "or the file is corrupt, so train and save it again",
    );
  }
}

/** Loads a model that saveModel (or tfjs-node's file:// handler) wrote to `dir`. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  if (typeof dir !== "string" || dir === "") {
    invalid("loadModel", "dir", "be the path of a folder (a non-empty string)", dir);
  }
  const modelPath = path.join(dir, MODEL_FILE);
  if (!fs.existsSync(modelPath)) {
    throw new AekitError(
      `loadModel: no ${MODEL_FILE} in ${dir}; save a model there first with saveModel`,
    );
  }
  const { topology, groups } = readManifest(modelPath);
  const specs = groups.flatMap((group) => group.weights);
  const weightData = readWeightFiles(dir, groups);
  const expected = specs.reduce(
    (sum, spec) =>
      sum + spec.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[spec.dtype],
    0,
  );
  if (weightData.length !== expected) {
    throw new AekitError(
      `loadModel: the weights in ${dir} hold ${weightData.length} bytes, but ${MODEL_FILE} declares ` +
        `${expected}; the files are truncated or from different saves`,
    );
  }
  // Buffers read from files are backed by an ArrayBuffer, never a SharedArrayBuffer
  const arrayBuffer = weightData.buffer.slice(
    weightData.byteOffset,
    weightData.byteOffset + weightData.length,
  ) as ArrayBuffer;

  // Build the model and set its weights in two steps, so that the model and the decoded
  // weights can be disposed when either step fails
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology }));
  } catch (err) {
    throw new AekitError(
      `loadModel: ${modelPath} could not be loaded (${(err as Error).message})`,
    );
  }
  let weights: tf.NamedTensorMap = {};
  try {
    weights = tf.io.decodeWeights(arrayBuffer, specs);
    checkFiniteWeights(dir, weights);
    // Skip optimizer state, because the loaded model has no optimizer to take it
    const modelWeights = Object.fromEntries(
      specs
        .filter((spec) => spec.group !== "optimizer")
        .map((s) => [s.name, weights[s.name]]),
    );
    model.loadWeights(modelWeights);
    return model;
  } catch (err) {
    model.dispose();
    if (err instanceof AekitError) throw err;
    throw new AekitError(
      `loadModel: ${modelPath} could not be loaded (${(err as Error).message})`,
    );
  } finally {
    tf.dispose(weights);
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
