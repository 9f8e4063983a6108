export { imageGrid, lineChart, scatter2d } from "./basic";
export type {
  ImageRow,
  ImageGridOptions,
  Series,
  LineChartOptions,
  ScatterOptions,
} from "./basic";
export type { Figure, FigureOptions } from "./types";
