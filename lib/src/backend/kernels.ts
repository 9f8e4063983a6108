import type { BackendName } from "./select";

/** Registers the kernels the kit adds or corrects for `backend`; safe to call twice. */
export function registerKitKernels(_backend: BackendName): void {
  // filled in by the wasm kernel work
}
