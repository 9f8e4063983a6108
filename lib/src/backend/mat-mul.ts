import type * as tf from "@tensorflow/tfjs";
import { Intermediates, type KernelArgs, type SingleOutputKernel } from "./kernel-data";

interface MatMulAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Builds a BatchMatMul or _FusedMatMul kernel for 'wasm' that transposes its operands
 * with the wasm Transpose kernel and then calls `original` without a transpose.
 *
 * tfjs-backend-wasm 4.22 multiplies through XNNPACK only when neither operand is
 * transposed, and otherwise with a plain loop. The gradients of every dense layer take
 * that loop, x^T·dy for the weights and dy·W^T for the input. For [128, 784] and
 * [128, 128] operands it took 11 ms, against 1.4 ms for the transpose and the XNNPACK
 * product (2-core Xeon, Node 20, mean of 30 calls).
 *
 * The wasm _FusedMatMul of tfjs 4.22 also adds the bias to the wrong rows when an operand
 * is transposed. Because this wrapper passes untransposed operands, its result matches
 * the cpu backend's.
 *
 * NOTE: that kernel also misplaces the bias when the operands have a batch axis of more
 * than 1, with or without a transpose. This wrapper keeps that defect, and the kit's
 * dense layers multiply rank-2 operands only.
 */
export function transposeFirstMatMul(original: SingleOutputKernel): SingleOutputKernel {
  return (args: KernelArgs): tf.TensorInfo => {
    const attrs = (args.attrs ?? {}) as MatMulAttrs;
    const { a, b } = args.inputs;
    if (
      (!attrs.transposeA && !attrs.transposeB) ||
      a === undefined ||
      b === undefined ||
      a.shape.length < 2 ||
      b.shape.length < 2 ||
      // XNNPACK leaves the output unwritten when the inner dimension is 0, and the wasm
      // Transpose throws on an empty tensor, where tfjs's transposing loop returns zeros
      a.shape.includes(0) ||
      b.shape.includes(0)
    ) {
      return original(args);
    }
    const intermediates = new Intermediates(args.backend);
    const swapLastTwoAxes = (x: tf.TensorInfo) => {
      const perm = x.shape.map((_, axis) => axis);
      const rank = perm.length;
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return intermediates.run("Transpose", { x }, { perm });
    };
    try {
      const inputs = { ...args.inputs };
      if (attrs.transposeA) inputs.a = swapLastTwoAxes(a);
      if (attrs.transposeB) inputs.b = swapLastTwoAxes(b);
      return original({
        inputs,
        backend: args.backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
    } finally {
      intermediates.dispose();
    }
  };
}
