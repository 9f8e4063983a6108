export { denseAutoencoder, ACTIVATIONS } from "./dense";
export type { Activation, Autoencoder, DenseAutoencoderOptions } from "./dense";
export { saveModel, loadModel, saveAutoencoder, loadAutoencoder } from "./io";
