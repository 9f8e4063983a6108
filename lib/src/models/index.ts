export { denseAutoencoder, ACTIVATIONS } from "./dense";
export type { Activation, Autoencoder, DenseAutoencoderOptions } from "./dense";
export { saveModel, loadModel, saveAutoencoder, loadAutoencoder } from "./io";
export { sparseAutoencoder, sparseLoss, meanActivations } from "./sparse";
export type { SparseAutoencoderOptions, SparsityPenalty } from "./sparse";
export { stepSeed, corruptionTransform, gridPoints, vectorField } from "./denoising";
export type { VectorField } from "./denoising";
export { contractiveLoss, squaredJacobianNorm, codeDisplacement } from "./contractive";
export type { CodeDisplacementOptions } from "./contractive";
export { pretrainLayerwise } from "./layerwise";
export type {
  PretrainingStage,
  PretrainingResult,
  EpochCallback,
  LayerwiseOptions,
} from "./layerwise";
export { convAutoencoder, DOWNSAMPLING, UPSAMPLING } from "./conv";
export type { ConvAutoencoderOptions, Downsampling, Upsampling } from "./conv";
