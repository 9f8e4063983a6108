export { imageGrid, lineChart, scatter2d } from "./basic";
export type {
  ImageRow,
  ImageGridOptions,
  Series,
  LineChartOptions,
  ScatterOptions,
} from "./basic";
export type { Figure, FigureOptions } from "./types";
export { stemPlot, peakLocation, correlationHeatmap, imageWithBoxes } from "./signal";
export type {
  StemSeries,
  StemPlotOptions,
  Peak,
  MapMark,
  CorrelationHeatmapOptions,
  ImageBox,
  ImageWithBoxesOptions,
} from "./signal";
export { histogram, featureGrid } from "./hidden-units";
export type {
  HistogramSeries,
  HistogramMarker,
  HistogramOptions,
  FeatureGridOptions,
} from "./hidden-units";
export { quiverPlot } from "./quiver";
export type { QuiverOptions } from "./quiver";
