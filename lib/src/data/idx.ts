import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { AekitError, describeValue } from "../core/errors";
import { checkInteger, checkObject, checkOneOf, invalid } from "../core/validate";

/** The element types of the IDX format, by their type byte. */
const IDX_TYPES = {
  0x08: { name: "uint8", bytes: 1 },
  0x09: { name: "int8", bytes: 1 },
  0x0b: { name: "int16", bytes: 2 },
  0x0c: { name: "int32", bytes: 4 },
  0x0d: { name: "float32", bytes: 4 },
  0x0e: { name: "float64", bytes: 8 },
} as const;

export type IdxDtype = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]["name"];

/** The contents of one IDX file: row-major data and its shape. */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

// Deflate expands at most about 1032:1, so a gzip file can never hold more than this
// many bytes per compressed byte; larger declared sizes are rejected before allocating.
const MAX_DEFLATE_RATIO = 1032;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface IdxHeader {
  type: (typeof IDX_TYPES)[keyof typeof IDX_TYPES];
  shape: number[];
  headerBytes: number;
  dataBytes: number;
}

/**
 * Parses the magic number and dimensions. Errors name `fn`, the function the caller
 * called, and `source`, the file.
 */
function parseHeader(head: Uint8Array, source: string, fn: string): IdxHeader {
  if (head.length < 4) {
    throw new AekitError(
      `${fn}: ${source} is too short for an IDX header (${head.length} bytes)`,
    );
  }
  if (head[0] !== 0 || head[1] !== 0) {
    const magic = Array.from(head.subarray(0, 4), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    throw new AekitError(
      `${fn}: ${source} has the wrong magic number 0x${magic}; an IDX file starts with ` +
        "two zero bytes, a type byte and the number of dimensions",
    );
  }
  const type = IDX_TYPES[head[2] as keyof typeof IDX_TYPES];
  if (!type) {
    throw new AekitError(
      `${fn}: ${source} has the unknown data type 0x${head[2].toString(16).padStart(2, "0")}; ` +
        "IDX types are 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64",
    );
  }
  const ndim = head[3];
  if (ndim === 0) {
    throw new AekitError(
      `${fn}: ${source} declares 0 dimensions; an IDX array needs at least 1`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (head.length < headerBytes) {
    throw new AekitError(
      `${fn}: ${source} ends inside its header (${ndim} dimensions need ${headerBytes} bytes, ` +
        `got ${head.length})`,
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, headerBytes);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    shape.push(size);
    count *= size;
  }
  return { type, shape, headerBytes, dataBytes: count * type.bytes };
}

/** Decodes big-endian elements into a typed array of the IDX type. */
function decodeData(bytes: Uint8Array, header: IdxHeader): IdxArray["data"] {
  const count = header.dataBytes / header.type.bytes;
  const view = new DataView(
    bytes.buffer,
    bytes.byteOffset + header.headerBytes,
    header.dataBytes,
  );
  switch (header.type.name) {
    case "uint8":
      return bytes.slice(header.headerBytes, header.headerBytes + count);
    case "int8":
      return new Int8Array(
        bytes.slice(header.headerBytes, header.headerBytes + count).buffer,
      );
    case "int16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

function gunzip(
  bytes: Uint8Array,
  source: string,
  options: zlib.ZlibOptions,
  fn: string,
): Buffer {
  try {
    return zlib.gunzipSync(bytes, options);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new AekitError(
        `${fn}: ${source} decompresses to more bytes than its header declares; the file is corrupt`,
      );
    }
    throw new AekitError(
      `${fn}: ${source} is not a valid gzip stream (${(err as Error).message}); ` +
        "the file is truncated or corrupt, download or copy it again",
    );
  }
}

/**
 * Parses an IDX file (the MNIST format), raw or gzip-compressed.
 *
 * Checks the magic number, the type byte and the dimensions against the file length
 * before allocating the data, and throws an AekitError that names `source` otherwise.
 */
export function parseIdx(fileBytes: Uint8Array, source = "the IDX data"): IdxArray {
  if (!(fileBytes instanceof Uint8Array)) {
    const input: unknown = fileBytes;
    const hint =
      input instanceof DataView || input instanceof ArrayBuffer
        ? "; wrap it as new Uint8Array(buffer, byteOffset, byteLength)"
        : "";
    throw new AekitError(
      "parseIdx: fileBytes must be a Uint8Array or Buffer of the file's bytes " +
        `(readIdx(path) reads a file), got ${describeValue(fileBytes)}${hint}`,
    );
  }
  return parseIdxBytes(fileBytes, source, "parseIdx");
}

/** Parses checked bytes. Errors name `fn`, the public function that was called. */
function parseIdxBytes(fileBytes: Uint8Array, source: string, fn: string): IdxArray {
  let bytes = fileBytes;
  if (isGzip(fileBytes)) {
    // Decompress only the start first, to read the declared size before allocating it
    const head = gunzip(
      fileBytes.subarray(0, 4096),
      source,
      { finishFlush: zlib.constants.Z_SYNC_FLUSH },
      fn,
    );
    const header = parseHeader(head, source, fn);
    const total = header.headerBytes + header.dataBytes;
    if (total > MAX_DEFLATE_RATIO * fileBytes.length + 1024) {
      throw new AekitError(
        `${fn}: ${source} declares shape [${header.shape.join(", ")}] (${total} bytes), ` +
          `more than ${fileBytes.length} compressed bytes can hold; the header is corrupt`,
      );
    }
    bytes = gunzip(fileBytes, source, { maxOutputLength: Math.max(total, 1) }, fn);
  }
  const header = parseHeader(bytes, source, fn);
  const expected = header.headerBytes + header.dataBytes;
  if (bytes.length !== expected) {
    throw new AekitError(
      `${fn}: ${source} declares shape [${header.shape.join(", ")}] of ${header.type.name}, ` +
        `which needs ${expected} bytes, but the data has ${bytes.length}; the file is truncated or corrupt`,
    );
  }
  return {
    dtype: header.type.name,
    shape: header.shape,
    data: decodeData(bytes, header),
  };
}

/** Reads an IDX file from disk; see parseIdx. */
export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new AekitError(`readIdx: cannot read ${path} (${reason})`);
  }
  return parseIdxBytes(bytes, path, "readIdx");
}

// The value range of each integer IDX type
const INTEGER_RANGES: Partial<Record<IdxDtype, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
};

/**
 * Checks the value of every element against the dtype: a number for the float types, an
 * integer in range for the integer types.
 */
function checkIdxValues(fn: string, dtype: IdxDtype, data: ArrayLike<unknown>): void {
  // A Uint8Array can contain only uint8 values, so large image arrays skip the loop
  if (dtype === "uint8" && data instanceof Uint8Array) return;
  const range = INTEGER_RANGES[dtype];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (range === undefined) {
      if (typeof v !== "number") {
        invalid(fn, `data[${i}]`, `be a number for dtype ${dtype}`, v);
      }
      continue;
    }
    const valid =
      typeof v === "number" && Number.isInteger(v) && v >= range[0] && v <= range[1];
    if (!valid) {
      const rule = `be an integer in [${range[0]}, ${range[1]}] for dtype ${dtype}`;
      invalid(fn, `data[${i}]`, rule, v);
    }
  }
}

/**
 * Encodes an array as an uncompressed IDX file (the inverse of parseIdx, for tests and
 * tools). `data` may be a plain array or any typed array of values that fit the dtype.
 */
export function encodeIdx(
  array: Omit<IdxArray, "data"> & { data: ArrayLike<number> },
): Uint8Array {
  const fn = "encodeIdx";
  checkObject(fn, "array", array, "{ dtype: 'uint8', shape: [2], data: [1, 2] }");
  const names = Object.values(IDX_TYPES).map((t) => t.name);
  checkOneOf(fn, "dtype", array.dtype, names);
  const { shape, data } = array;
  // The header stores the number of dimensions in one byte and each size in 4 bytes
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 255) {
    invalid(fn, "shape", "be an array of 1 to 255 sizes", shape);
  }
  shape.forEach((size, d) => checkInteger(fn, `shape[${d}]`, size, 0, 2 ** 32 - 1));
  const isArrayLike =
    Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView));
  if (!isArrayLike) invalid(fn, "data", "be an array or typed array of numbers", data);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    invalid(
      fn,
      "data",
      `have ${count} elements, the product of shape [${shape.join(", ")}]`,
      data,
    );
  }
  checkIdxValues(fn, array.dtype, data);

  const code = Number(
    Object.entries(IDX_TYPES).find(([, t]) => t.name === array.dtype)?.[0],
  );
  const type = IDX_TYPES[code as keyof typeof IDX_TYPES];
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + data.length * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  for (let i = 0; i < data.length; i++) {
    const at = headerBytes + i * type.bytes;
    const v = Number(data[i]);
    if (type.name === "uint8") view.setUint8(at, v);
    else if (type.name === "int8") view.setInt8(at, v);
    else if (type.name === "int16") view.setInt16(at, v, false);
    else if (type.name === "int32") view.setInt32(at, v, false);
    else if (type.name === "float32") view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}
