import * as tf from "@tensorflow/tfjs";
import { AekitError } from "../core/errors";
import { registerKitKernels } from "./kernels";

/** The backends the kit can run on, fastest first. */
export const BACKENDS = ["tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The environment variable that forces one backend, for example AEKIT_BACKEND=cpu. */
export const BACKEND_ENV = "AEKIT_BACKEND";

let chosen: Promise<BackendName> | undefined;

/**
 * Loads tfjs-node's native addon if it is installed, and reports whether it registered
 * the 'tensorflow' backend. `require` succeeding proves nothing here, because the kit's
 * install aliases @tensorflow/tfjs-node to plain @tensorflow/tfjs for danfojs-node.
 */
function loadNativeBackend(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@tensorflow/tfjs-node");
  } catch {
    return false;
  }
  return tf.findBackendFactory("tensorflow") !== null;
}

function loadWasmBackend(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@tensorflow/tfjs-backend-wasm");
  } catch {
    return false;
  }
  return tf.findBackendFactory("wasm") !== null;
}

async function select(forced: string | undefined): Promise<BackendName> {
  if (forced !== undefined && !(BACKENDS as readonly string[]).includes(forced)) {
    throw new AekitError(
      `${BACKEND_ENV} must be one of ${BACKENDS.map((b) => `'${b}'`).join(", ")}, ` +
        `got ${JSON.stringify(forced)}; unset it to let the kit choose`,
    );
  }
  const available: Record<BackendName, () => boolean> = {
    tensorflow: loadNativeBackend,
    wasm: loadWasmBackend,
    cpu: () => tf.findBackendFactory("cpu") !== null,
  };
  const candidates: readonly BackendName[] = forced ? [forced as BackendName] : BACKENDS;
  for (const name of candidates) {
    if (!available[name]()) {
      if (forced) {
        const hint =
          name === "tensorflow"
            ? "install @tensorflow/tfjs-node (see the README) or unset it"
            : "unset it to let the kit choose";
        throw new AekitError(
          `${BACKEND_ENV}=${name}, but that backend is not installed: ${hint}`,
        );
      }
      continue;
    }
    if (await tf.setBackend(name)) {
      registerKitKernels(name);
      return name;
    }
    if (forced) {
      throw new AekitError(
        `${BACKEND_ENV}=${name}, but the backend failed to initialize`,
      );
    }
  }
  throw new AekitError(
    "no TensorFlow.js backend could be initialized (tried tensorflow, wasm, cpu)",
  );
}

/**
 * Picks and initializes the TensorFlow.js backend once per process: the native
 * 'tensorflow' backend when tfjs-node's addon loads, else 'wasm', else 'cpu'.
 * AEKIT_BACKEND forces one. Logs the choice once and returns its name.
 */
export function initBackend(options: { quiet?: boolean } = {}): Promise<BackendName> {
  if (!chosen) {
    const forced = process.env[BACKEND_ENV] || undefined;
    chosen = select(forced).then((name) => {
      if (!options.quiet) {
        const why = forced ? `forced by ${BACKEND_ENV}` : "chosen automatically";
        console.log(
          `aekit: TensorFlow.js ${tf.version.tfjs} on the '${name}' backend (${why})`,
        );
      }
      return name;
    });
    chosen.catch(() => {
      chosen = undefined;
    });
  }
  return chosen;
}
