export { parseIdx, readIdx, encodeIdx } from "./idx";
export type { IdxArray, IdxDtype } from "./idx";
export { takeImages, splitTrainTest, toTensors } from "./images";
export type { ImageSet, SplitOptions, TensorSplit } from "./images";
export { loadMnistDigits, loadMnist } from "./mnist";
export type { MnistOptions, MnistData } from "./mnist";
export { loadFashionMnist, FASHION_MNIST_DIR, FASHION_CLASSES } from "./fashion";
export { noisyCircle, spiral, swissRoll } from "./manifolds";
export type { ManifoldSample, ManifoldOptions } from "./manifolds";
export {
  corrupt,
  gaussianNoise,
  maskingNoise,
  saltAndPepperNoise,
  CORRUPTION_KINDS,
} from "./corruptions";
export type {
  CorruptionKind,
  CorruptionOptions,
  GaussianNoiseOptions,
  ReplacementNoiseOptions,
} from "./corruptions";
