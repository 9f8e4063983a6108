import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";

/** The arguments TensorFlow.js passes to every kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}

/** A kernel function that returns one output, typed with the backend it runs on. */
export type SingleOutputKernel = (args: KernelArgs) => tf.TensorInfo;

/** Returns `inputs[name]`, or throws an AekitError naming the kernel when it is missing. */
export function requireInput(
  inputs: tf.NamedTensorInfoMap,
  name: string,
  kernelName: string,
): tf.TensorInfo {
  const input = inputs[name];
  if (input === undefined) {
    throw new AekitError(`${kernelName}: input '${name}' is missing`);
  }
  return input;
}

/**
 * Returns the values of `info` as float32. The cpu backend returns its stored array and
 * the wasm backend a copy, so callers must treat the result as read-only.
 */
export function readFloat32(
  backend: tf.KernelBackend,
  info: tf.TensorInfo,
): Float32Array {
  const values = backend.readSync(info.dataId);
  if (values instanceof Float32Array) {
    return values;
  }
  if (values instanceof Int32Array || values instanceof Uint8Array) {
    return Float32Array.from(values);
  }
  throw new AekitError(`readFloat32: dtype must be numeric, got '${info.dtype}'`);
}

/** Stores `values` on `backend` as a new float32 tensor of `shape` and returns its info. */
export function writeFloat32(
  backend: tf.KernelBackend,
  shape: number[],
  values: Float32Array,
): tf.TensorInfo {
  const dataId = backend.write(values, shape, "float32");
  return { dataId, shape, dtype: "float32" };
}

/**
 * Returns the kernel function that TensorFlow.js has registered for `kernelName` on
 * `backendName`, so one kernel can be built from others without going through ops.
 */
export function registeredKernel(
  kernelName: string,
  backendName: string,
): SingleOutputKernel {
  const config = tf.getKernel(kernelName, backendName);
  if (config === undefined) {
    throw new AekitError(
      `kernel '${kernelName}' is not registered for backend '${backendName}', but the kit's ` +
        "kernels call it. Check that @tensorflow/tfjs and the backend package have the same version",
    );
  }
  return config.kernelFunc as unknown as SingleOutputKernel;
}
