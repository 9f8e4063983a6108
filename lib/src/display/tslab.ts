/**
 * Access to the tslab kernel's display channel. tslab's public `display` API sends one
 * MIME type per output, but a figure needs several in one output (the plotly JSON for
 * VS Code, HTML for JupyterLab and the HTML export, a static image for GitHub), so the
 * kit calls the writer that tslab's `display.raw` uses.
 */

/** A Jupyter MIME bundle: MIME type to content (strings; images as base64). */
export type MimeBundle = Record<string, unknown>;

type DisplayWriter = (
  content: {
    data: MimeBundle;
    metadata: Record<string, unknown>;
    transient: { display_id?: string };
  },
  update: boolean,
) => void;

// NOTE: `lastWriteDisplayData` is internal to tslab 1.0.22 (dist/jupyter.js); a tslab
// upgrade may move it, and then inTslab() returns false and output falls back to text.
function writer(): DisplayWriter | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require("tslab/dist/jupyter") as {
      lastWriteDisplayData?: DisplayWriter | null;
    };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** Reports whether this code runs inside a tslab kernel that is executing a cell. */
export function inTslab(): boolean {
  return writer() !== undefined;
}

let nextId = 0;

/** An output area that can be written again in place (a Jupyter display id). */
export class DisplayHandle {
  private readonly id = `aekit-${process.pid}-${Date.now().toString(36)}-${nextId++}`;
  private shown = false;

  /** Shows `bundle`, replacing what this handle showed before. Returns false outside tslab. */
  update(bundle: MimeBundle): boolean {
    const write = writer();
    if (!write) return false;
    write({ data: bundle, metadata: {}, transient: { display_id: this.id } }, this.shown);
    this.shown = true;
    return true;
  }
}

/** Shows a MIME bundle as a new output; outside tslab prints its text/plain part. */
export function displayBundle(bundle: MimeBundle): void {
  const write = writer();
  if (write) {
    write({ data: bundle, metadata: {}, transient: {} }, false);
  } else if (typeof bundle["text/plain"] === "string") {
    console.log(bundle["text/plain"]);
  }
}
