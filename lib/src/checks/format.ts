import * as tf from "@tensorflow/tfjs";
import { describeValue } from "../core/errors";

/** Entries of a list shown in feedback: longer lists show their first and last ones. */
const LIST_HEAD = 6;
const LIST_TAIL = 2;
/** Rows of a matrix shown in feedback: taller matrices show their first and last ones. */
const MATRIX_HEAD = 4;
const MATRIX_TAIL = 1;

/** Formats a number with at most 7 significant digits, about float32's precision. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Object.is(value, -0)) return "0";
  return String(Number(value.toPrecision(7)));
}

/** Keeps the first `head` and last `tail` items, with null where items were left out. */
function shorten<T>(items: readonly T[], head: number, tail: number): (T | null)[] {
  if (items.length <= head + tail + 1) return [...items];
  return [...items.slice(0, head), null, ...items.slice(items.length - tail)];
}

/** Formats a list of numbers on one line, such as "[1, 2, …, 9] (20 entries)". */
export function formatList(values: ArrayLike<number>): string {
  const shown = shorten(Array.from(values), LIST_HEAD, LIST_TAIL);
  const text = `[${shown.map((v) => (v === null ? "…" : formatNumber(v))).join(", ")}]`;
  return shown.length < values.length ? `${text} (${values.length} entries)` : text;
}

/** Formats a matrix as its size and one line per row, such as "2 x 3\n[1, 2, 3]\n[4, 5, 6]". */
export function formatMatrix(rows: readonly ArrayLike<number>[]): string {
  const cols = rows.length > 0 ? rows[0].length : 0;
  const shown = shorten(rows, MATRIX_HEAD, MATRIX_TAIL);
  const lines = shown.map((row) => (row === null ? "…" : formatList(row)));
  return [`${rows.length} x ${cols}`, ...lines].join("\n");
}

function isNumberList(value: unknown): value is ArrayLike<number> {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return !(value instanceof BigInt64Array || value instanceof BigUint64Array);
  }
  return Array.isArray(value) && value.every((v) => typeof v === "number");
}

function formatTensor(value: tf.Tensor): string {
  if (value.isDisposed) return `a disposed tensor of shape [${value.shape.join(", ")}]`;
  const kind = `a ${value.dtype} tensor of shape [${value.shape.join(", ")}]`;
  if (value.rank === 0) return `${kind}: ${formatNumber(value.dataSync()[0])}`;
  if (value.rank === 1) return `${kind}: ${formatList(value.dataSync())}`;
  if (value.rank === 2)
    return `${kind}:\n${formatMatrix(value.arraySync() as number[][])}`;
  return kind;
}

/**
 * Formats whatever a student's function returned: numbers, lists and matrices with their
 * values, tensors with their dtype, shape and values, anything else as a short description.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "number") return formatNumber(value);
  if (value instanceof tf.Tensor) return formatTensor(value);
  if (isNumberList(value)) return formatList(value);
  if (Array.isArray(value) && value.length > 0 && value.every(isNumberList)) {
    return formatMatrix(value);
  }
  return describeValue(value);
}
