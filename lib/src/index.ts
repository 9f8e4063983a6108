// The public API of aekit: every name a notebook or an assignment imports.
export * as tf from "@tensorflow/tfjs";
export { AekitError, describeValue } from "./core/errors";
export { checkShape, assertClaim } from "./core/claims";
export type { Comparison } from "./core/claims";
export { courseMode, recordMetric, MODE_ENV, METRICS_ENV } from "./core/course";
export type { CourseMode, MetricRecord } from "./core/course";
export { makeRng, randomNormal, permutation } from "./core/random";
export type { Rng } from "./core/random";
export { initBackend, BACKENDS, BACKEND_ENV } from "./backend/select";
export type { BackendName } from "./backend/select";
export * from "./data";
export * from "./signal";
export * from "./linalg";
export * from "./losses";
export * from "./models";
export * from "./train";
export * from "./figures";
export * from "./display";
