import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { conv2dBackpropFilterWasm } from "./conv2d-backprop-filter";
import { conv2dBackpropInputFromConv2d } from "./conv2d-backprop-input";
import { rowCopyGather } from "./gather-rows";
import { readFloat32, type SingleOutputKernel, writeFloat32 } from "./kernel-data";
import { transposeFirstMatMul } from "./mat-mul";
import { maxPoolGrad } from "./max-pool-grad";
import { leadingAxesSum } from "./sum-leading";
import { resizeNearestNeighborGrad } from "./resize-nearest-neighbor-grad";
import type { BackendName } from "./select";

/** A kernel the kit adds to a backend, or puts in place of a wrong one. */
export interface FixKernel {
  kernelName: string;
  backendName: BackendName;
  kernelFunc: SingleOutputKernel;
  /**
   * Runs the kernel TensorFlow.js registered and reports whether its output is right.
   * Without it, the kit's kernel only fills a gap and never replaces one that exists.
   */
  isCorrect?: (existing: SingleOutputKernel, backend: tf.KernelBackend) => boolean;
}

/**
 * A faster kernel the kit builds around a correct one that TensorFlow.js registered. It
 * is registered only where that kernel exists, and calls it for the cases it does not
 * speed up.
 */
export interface SpeedupKernel {
  kernelName: string;
  backendName: BackendName;
  wrap: (original: SingleOutputKernel) => SingleOutputKernel;
}

export type KitKernel = FixKernel | SpeedupKernel;

/** A small input to a kernel under test, with the output a correct kernel returns. */
interface KernelProbe {
  inputs: Record<string, { shape: number[]; values: number[] }>;
  attrs: object;
  expected: number[];
}

/**
 * Runs `kernel` on each probe's tiny inputs and compares the output exactly. The probes
 * use small integers, so a correct float32 kernel reproduces them without rounding.
 */
function passesProbes(
  kernel: SingleOutputKernel,
  backend: tf.KernelBackend,
  probes: readonly KernelProbe[],
): boolean {
  return probes.every((probe) => {
    const inputs: tf.NamedTensorInfoMap = {};
    for (const [name, { shape, values }] of Object.entries(probe.inputs)) {
      inputs[name] = writeFloat32(backend, shape, Float32Array.from(values));
    }
    let output: tf.TensorInfo | undefined;
    try {
      output = kernel({ inputs, backend, attrs: probe.attrs as tf.NamedAttrMap });
      const actual = readFloat32(backend, output);
      return probe.expected.every((value, i) => actual[i] === value);
    } catch {
      // A kernel that throws on a valid input is as wrong as one that returns bad values,
      // and failing here would stop the whole backend from initializing.
      return false;
    } finally {
      for (const input of Object.values(inputs)) {
        if (input !== undefined) backend.disposeData(input.dataId);
      }
      if (output !== undefined) backend.disposeData(output.dataId);
    }
  });
}

// Two batch elements, so a kernel that mixes up the batch stride of images and dy fails,
// and one half-pixel-centres resize from 2 rows to 3, whose rows come from 0, 1 and 1.
const RESIZE_NEAREST_NEIGHBOR_GRAD_PROBES: readonly KernelProbe[] = [
  {
    inputs: {
      images: { shape: [2, 1, 1, 1], values: [0, 0] },
      dy: { shape: [2, 2, 2, 1], values: [1, 2, 3, 4, 10, 20, 30, 40] },
    },
    attrs: { alignCorners: false, halfPixelCenters: false, size: [2, 2] },
    expected: [10, 100],
  },
  {
    inputs: {
      images: { shape: [1, 2, 1, 1], values: [0, 0] },
      dy: { shape: [1, 3, 1, 1], values: [1, 10, 100] },
    },
    attrs: { alignCorners: false, halfPixelCenters: true, size: [3, 1] },
    expected: [1, 110],
  },
];

// One 2x2 window per channel, whose maxima are -1 (channel 0), 0 (channel 1) and 2
// (channel 2), each at a different position.
const MAX_POOL_GRAD_PROBES: readonly KernelProbe[] = [
  {
    inputs: {
      input: {
        shape: [1, 2, 2, 3],
        values: [-4, -3, 1, -1, -2, 2, -3, 0, -1, -2, -1, 0],
      },
      output: { shape: [1, 1, 1, 3], values: [-1, 0, 2] },
      dy: { shape: [1, 1, 1, 3], values: [5, 6, 7] },
    },
    attrs: { filterSize: [2, 2], strides: [2, 2], pad: "valid" },
    expected: [0, 0, 0, 5, 0, 7, 0, 6, 0, 0, 0, 0],
  },
];

/** Every kernel the kit may register, for each backend it supports. */
export const KIT_KERNELS: readonly KitKernel[] = [
  {
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilterWasm,
  },
  {
    kernelName: "MaxPoolGrad",
    backendName: "wasm",
    kernelFunc: maxPoolGrad,
    isCorrect: (existing, backend) =>
      passesProbes(existing, backend, MAX_POOL_GRAD_PROBES),
  },
  {
    kernelName: "ResizeNearestNeighborGrad",
    backendName: "cpu",
    kernelFunc: resizeNearestNeighborGrad,
    isCorrect: (existing, backend) =>
      passesProbes(existing, backend, RESIZE_NEAREST_NEIGHBOR_GRAD_PROBES),
  },
  {
    kernelName: "ResizeNearestNeighborGrad",
    backendName: "wasm",
    kernelFunc: resizeNearestNeighborGrad,
    isCorrect: (existing, backend) =>
      passesProbes(existing, backend, RESIZE_NEAREST_NEIGHBOR_GRAD_PROBES),
  },
  { kernelName: "BatchMatMul", backendName: "wasm", wrap: transposeFirstMatMul },
  { kernelName: "_FusedMatMul", backendName: "wasm", wrap: transposeFirstMatMul },
  { kernelName: "GatherV2", backendName: "wasm", wrap: rowCopyGather },
  { kernelName: "Sum", backendName: "wasm", wrap: leadingAxesSum },
  {
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    wrap: conv2dBackpropInputFromConv2d,
  },
];

// Every kernel function that `registerKitKernels` built with a SpeedupKernel's `wrap`
const wrappers = new WeakSet<SingleOutputKernel>();

// The first kernel the kit took out of the registry for each "backend/kernel" key.
const replacedKernels = new Map<string, tf.KernelConfig>();

/**
 * Returns the kernel TensorFlow.js registered for `kernelName` on `backendName` before
 * `registerKitKernels` replaced or wrapped it, or undefined when the kit kept or never saw
 * it. Tests use it to show the defect that a replacement corrects, and to compare a
 * faster kernel with the one it wraps.
 */
export function tfjsKernelReplacedByKit(
  kernelName: string,
  backendName: BackendName,
): tf.KernelConfig | undefined {
  return replacedKernels.get(`${backendName}/${kernelName}`);
}

/**
 * Registers the kernels the kit adds, corrects or speeds up for `backendName`, which must
 * already be initialized. A missing kernel is added. An existing one is replaced only when
 * it fails its probe, so a TensorFlow.js release that fixes a kernel keeps its own, or
 * wrapped by a faster kernel that calls it. Calling this again changes nothing. Returns
 * the names of the kernels the kit's versions now serve.
 */
export function registerKitKernels(backendName: BackendName): string[] {
  const kernels = KIT_KERNELS.filter((kernel) => kernel.backendName === backendName);
  if (kernels.length === 0) {
    return [];
  }
  const backend = tf.findBackend(backendName);
  if (backend === null) {
    throw new AekitError(
      `registerKitKernels: backend '${backendName}' is not initialized. ` +
        `Call await tf.setBackend('${backendName}') first`,
    );
  }
  const served: string[] = [];
  for (const kernel of kernels) {
    const existing = tf.getKernel(kernel.kernelName, backendName);
    const existingFunc = existing?.kernelFunc as unknown as
      SingleOutputKernel | undefined;
    const key = `${backendName}/${kernel.kernelName}`;
    if ("wrap" in kernel) {
      if (existing === undefined || existingFunc === undefined) continue;
      if (!wrappers.has(existingFunc)) {
        const wrapper = kernel.wrap(existingFunc);
        wrappers.add(wrapper);
        if (!replacedKernels.has(key)) replacedKernels.set(key, existing);
        tf.unregisterKernel(kernel.kernelName, backendName);
        // The setup and dispose functions of the wasm kernels bind their module's
        // exports, which the wrapper calls through the original kernel
        tf.registerKernel({
          ...existing,
          kernelFunc: wrapper as unknown as tf.KernelFunc,
        });
      }
      served.push(kernel.kernelName);
      continue;
    }
    if (existingFunc === kernel.kernelFunc) {
      served.push(kernel.kernelName);
      continue;
    }
    if (existingFunc !== undefined) {
      if (kernel.isCorrect === undefined || kernel.isCorrect(existingFunc, backend)) {
        continue;
      }
      if (!replacedKernels.has(key)) replacedKernels.set(key, existing);
      tf.unregisterKernel(kernel.kernelName, backendName);
    }
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName,
      kernelFunc: kernel.kernelFunc as unknown as tf.KernelFunc,
    });
    served.push(kernel.kernelName);
  }
  return served;
}
