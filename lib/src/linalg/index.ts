export { pca } from "./pca";
export type { PcaResult } from "./pca";
export { principalAngles } from "./angles";
export type { FlatMatrix, MatrixLike } from "./dense";
