export { klSparsityPenalty, l1ActivityPenalty } from "./sparsity";
export { contractivePenalty } from "./contractive";
export { mse, psnr } from "./reconstruction";
