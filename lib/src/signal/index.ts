// Signals and systems for the course: convolution and correlation in 1-D and 2-D (direct
// and FFT, with large FFTs split across worker threads), recursive filters, probes of
// linearity and shift invariance, and normalized template matching.
export { convolve, correlate, correlationLags } from "./convolve";
export { convolve2d, correlate2d } from "./convolve2d";
export { lfilter } from "./lfilter";
export { signalThreads, SIGNAL_THREADS_ENV } from "./parallel";
export { impulseResponse, stepResponse, isLinear, isShiftInvariant } from "./systems";
export type { System, ProbeOptions, ProbeResult } from "./systems";
export { matchTemplate, TEMPLATE_METHODS } from "./template";
export type { TemplateMethod } from "./template";
export {
  correlateTensor,
  convolveTensor,
  correlate2dTensor,
  convolve2dTensor,
} from "./tensor";
export { CONVOLVE_MODES, CONVOLVE_METHODS } from "./input";
export type {
  ConvolveOptions,
  Signal2D,
  Signal2DOutput,
  ConvolveMethod,
  ConvolveMode,
  Signal1D,
  Signal1DOutput,
  TypedNumberArray,
} from "./input";
