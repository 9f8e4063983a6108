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

/**
 * The two public methods of tfjs-backend-wasm's BackendWasm that give kernels direct
 * access to tensor memory in the module's heap, without the copy of `readSync`.
 */
interface HeapBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

function isHeapBackend(backend: tf.KernelBackend): backend is HeapBackend {
  const candidate = backend as Partial<HeapBackend>;
  return (
    typeof candidate.makeOutput === "function" &&
    typeof candidate.typedArrayFromHeap === "function"
  );
}

/**
 * Returns the wasm backend's heap as `backend`'s interface for direct memory access, or
 * throws an AekitError naming `kernelName` on a backend without one.
 */
export function heapBackend(backend: tf.KernelBackend, kernelName: string): HeapBackend {
  if (!isHeapBackend(backend)) {
    throw new AekitError(
      `${kernelName}: the kit's version of this kernel runs on the 'wasm' backend only, ` +
        "because it reads tensor memory in place; register it for 'wasm' alone",
    );
  }
  return backend;
}

/**
 * Returns a view of `info`'s values in the wasm heap. The view is valid until the next
 * allocation on the backend, which may grow the heap and detach it, so allocate every
 * output before taking views.
 */
export function heapView(backend: HeapBackend, info: tf.TensorInfo): tf.TypedArray {
  return backend.typedArrayFromHeap(info);
}

/**
 * Runs `compute` on float32 views of `inputs` and of a new output of `shape`, and returns
 * the output's info. On the wasm backend the views are the tensors' memory in the heap,
 * so nothing is copied. On other backends the inputs are read with `readSync` and the
 * output is written once `compute` returns. `compute` must write every output element,
 * because wasm memory is not zeroed.
 */
export function computeFloat32(
  backend: tf.KernelBackend,
  shape: number[],
  inputs: readonly tf.TensorInfo[],
  compute: (output: Float32Array, inputs: Float32Array[]) => void,
): tf.TensorInfo {
  if (isHeapBackend(backend) && inputs.every((input) => input.dtype === "float32")) {
    const out = backend.makeOutput(shape, "float32");
    // Views are taken after the allocation, which may have moved the heap
    const views = inputs.map((input) => heapView(backend, input) as Float32Array);
    compute(heapView(backend, out) as Float32Array, views);
    return out;
  }
  const values = inputs.map((input) => readFloat32(backend, input));
  const output = new Float32Array(shape.reduce((a, b) => a * b, 1));
  compute(output, values);
  return writeFloat32(backend, shape, output);
}

/**
 * The intermediate outputs of a kernel built from other wasm kernels. `run` calls a
 * registered kernel and keeps its output, and `dispose` frees every kept output, so a
 * `finally` block can free them also when a step throws.
 */
export class Intermediates {
  private readonly outputs: tf.TensorInfo[] = [];

  constructor(private readonly backend: tf.KernelBackend) {}

  /** Runs the kernel registered for 'wasm' as `kernelName` and keeps its output. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo {
    const kernel = registeredKernel(kernelName, "wasm");
    return this.keep(
      kernel({ inputs, backend: this.backend, attrs: attrs as tf.NamedAttrMap }),
    );
  }

  /** Keeps `output` to be freed by `dispose`, and returns it. */
  keep(output: tf.TensorInfo): tf.TensorInfo {
    this.outputs.push(output);
    return output;
  }

  dispose(): void {
    for (const output of this.outputs) this.backend.disposeData(output.dataId);
    this.outputs.length = 0;
  }
}
