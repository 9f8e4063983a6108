import * as tf from "@tensorflow/tfjs";
import { computeFloat32, type KernelArgs, requireInput } from "./kernel-data";

/**
 * Returns, for each of `outSize` output rows (or columns), the input row that the
 * forward nearest-neighbour resize copies. The rule is the one of the cpu
 * ResizeNearestNeighbor kernel in tfjs-backend-cpu 4.22, so the gradient matches it.
 */
export function nearestSourceIndices(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Int32Array {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const sources = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const position = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    let source = Math.min(
      inSize - 1,
      alignCorners ? Math.round(position) : Math.floor(position),
    );
    if (halfPixelCenters) {
      source = Math.max(0, source);
    }
    sources[i] = source;
  }
  return sources;
}

/**
 * Computes the gradient of a nearest-neighbour resize by adding each element of dy to
 * the input pixel that the forward pass copied it from.
 *
 * Replaces the ResizeNearestNeighborGrad kernels of tfjs 4.22. The cpu one offsets dy by
 * the batch stride of the images instead of its own, so every batch element after the
 * first gets the gradient of the wrong pixels. Both the cpu and the wasm one ignore
 * `halfPixelCenters` and send dy to the pixels a resize without it would have copied.
 */
export function resizeNearestNeighborGrad(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const images = requireInput(inputs, "images", "ResizeNearestNeighborGrad");
  const dy = requireInput(inputs, "dy", "ResizeNearestNeighborGrad");
  const attrs = args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  const [batch, inHeight, inWidth, channels] = images.shape;
  const [, outHeight, outWidth] = dy.shape;
  const alignCorners = Boolean(attrs.alignCorners);
  const halfPixelCenters = Boolean(attrs.halfPixelCenters);
  const sourceRows = nearestSourceIndices(
    inHeight,
    outHeight,
    alignCorners,
    halfPixelCenters,
  );
  const sourceCols = nearestSourceIndices(
    inWidth,
    outWidth,
    alignCorners,
    halfPixelCenters,
  );
  return computeFloat32(backend, images.shape, [dy], (dx, [dyValues]) => {
    dx.fill(0);
    let dyIndex = 0;
    for (let b = 0; b < batch; b++) {
      for (let row = 0; row < outHeight; row++) {
        const rowOffset = (b * inHeight + sourceRows[row]) * inWidth;
        for (let col = 0; col < outWidth; col++) {
          const dxOffset = (rowOffset + sourceCols[col]) * channels;
          for (let c = 0; c < channels; c++) {
            dx[dxOffset + c] += dyValues[dyIndex++];
          }
        }
      }
    }
  });
}
