/**
 * The one error type the kit throws on bad input or bad files, so a caller can tell
 * a student's mistake from a bug inside TensorFlow.js.
 *
 * Messages follow "<function>: <argument> must <constraint>, got <value>", plus what
 * to do next where that is not obvious.
 */
export class AekitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AekitError";
  }
}

/** Formats a received value for an error message, short enough to read in one line. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (
    typeof value === "number" ||
    typeof value === "boolean" ||
    typeof value === "bigint"
  ) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof DataView) return `a DataView of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (ArrayBuffer.isView(value))
    return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "function") return "a function";
  const shape = (value as { shape?: unknown }).shape;
  if (Array.isArray(shape)) {
    const disposed = (value as { isDisposed?: unknown }).isDisposed === true;
    return `a ${disposed ? "disposed " : ""}tensor of shape [${shape.join(", ")}]`;
  }
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
