/** A plotly.js figure as plain data: traces and layout, ready for Plotly.newPlot. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** Common options of the figure builders. */
export interface FigureOptions {
  title?: string;
  /** Width in pixels. Each builder has its own default. */
  width?: number;
  /** Height in pixels. Each builder has its own default. */
  height?: number;
}

export function baseLayout(options: FigureOptions, width: number, height: number) {
  return {
    title: options.title ? { text: options.title } : undefined,
    width: options.width ?? width,
    height: options.height ?? height,
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
    template: undefined,
  } as Record<string, unknown>;
}
