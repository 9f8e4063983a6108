import type * as tf from "@tensorflow/tfjs";
import {
  heapBackend,
  heapView,
  type KernelArgs,
  type SingleOutputKernel,
} from "./kernel-data";

/**
 * Builds a GatherV2 kernel for 'wasm' that copies whole rows (gathers along axis 0) with
 * one memory copy each, and calls `original` for every other gather.
 *
 * The wasm GatherV2 of tfjs-backend-wasm 4.22 computes an index per element. Gathering a
 * batch of 128 rows of 784 float32 values, as every training step does, took it 3.0 ms,
 * against 0.08 ms with one copy per row (2-core Xeon, Node 20). Indices outside [0, rows) also go to
 * `original`, so its error or its result for them is unchanged.
 */
export function rowCopyGather(original: SingleOutputKernel): SingleOutputKernel {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x, indices } = args.inputs;
    const attrs = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    if (
      x === undefined ||
      indices === undefined ||
      x.shape.length === 0 ||
      // axis 0 or -rank only: tfjs raises its own error for an axis out of range
      ((attrs.axis ?? 0) !== 0 && attrs.axis !== -x.shape.length) ||
      (attrs.batchDims ?? 0) !== 0 ||
      indices.dtype !== "int32" ||
      x.dtype === "string" ||
      x.dtype === "complex64"
    ) {
      return original(args);
    }
    const backend = heapBackend(args.backend, "GatherV2");
    const rows = x.shape[0];
    const indexValues = heapView(backend, indices);
    for (let i = 0; i < indexValues.length; i++) {
      if (!(indexValues[i] >= 0 && indexValues[i] < rows)) return original(args);
    }

    const rowLength = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views are taken after the allocation, which may have moved the heap
    const source = heapView(backend, x);
    const target = heapView(backend, out);
    const rowIndices = heapView(backend, indices);
    for (let i = 0; i < rowIndices.length; i++) {
      const start = rowIndices[i] * rowLength;
      target.set(source.subarray(start, start + rowLength), i * rowLength);
    }
    return out;
  };
}
