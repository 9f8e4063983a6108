export {
  show,
  showTable,
  tableText,
  figureBundle,
  plotlyLibraryBundle,
  trainingProgress,
  progressFigure,
} from "./show";
export type { TableInput } from "./show";
export { inTslab, displayBundle, DisplayHandle } from "./tslab";
export type { MimeBundle } from "./tslab";
export { renderPng, closeStaticRenderer, findChromium } from "./static-image";
