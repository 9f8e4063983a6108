// Checkers for the exercise notebooks in notebooks/exercises: each compares a student's
// function with the kit's reference and prints feedback a student can act on.
export { CheckFailedError } from "./cases";
export type { CaseResult, CheckOptions, CheckResult } from "./cases";
export { checkKlSparsityPenalty } from "./sparsity";
export type { KlSparsityPenaltyFunction } from "./sparsity";
export { checkMaskingNoise } from "./corruption";
export type { MaskingNoiseFunction } from "./corruption";
export { checkContractivePenalty } from "./contractive";
export type { ContractivePenaltyFunction } from "./contractive";
export { checkCorrelate2dValid } from "./correlation";
export type { Correlate2dValidFunction } from "./correlation";
export { checkNormalizedCrossCorrelation } from "./template";
export type { NormalizedCrossCorrelationFunction } from "./template";
