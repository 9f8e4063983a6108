export { trainAutoencoder, evaluateLoss, formatEpochLogs } from "./fit";
export type { EpochLogs, History, LossFunction, LossTerms, TrainOptions } from "./fit";
