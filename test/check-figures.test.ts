import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  figureBundle,
  plotlyLibraryBundle,
  resetPlotlyInclusion,
} from "../lib/src/display/show";
import {
  findChromium,
  renderPng,
  closeStaticRenderer,
} from "../lib/src/display/static-image";
import { lineChart } from "../lib/src/figures/basic";

const ROOT = path.join(__dirname, "..");

/** Writes an executed notebook and its HTML export, the library first as in a kernel. */
function writeExport(
  dir: string,
  name: string,
  figures: Record<string, unknown>[],
): void {
  resetPlotlyInclusion();
  const bundles = [plotlyLibraryBundle()!, ...figures];
  const cells = bundles.map((data) => ({
    cell_type: "code",
    source: "",
    metadata: {},
    outputs: [{ output_type: "display_data", data, metadata: {} }],
  }));
  fs.writeFileSync(path.join(dir, `${name}.ipynb`), JSON.stringify({ cells }));
  const body = bundles.map((b) => b["text/html"]).join("\n");
  fs.writeFileSync(
    path.join(dir, `${name}.html`),
    `<!DOCTYPE html><html><body>${body}</body></html>`,
  );
}

function runCheck(dir: string) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/check-figures.ts", "--dir", dir],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
}

describe("static images and the figure check", function () {
  before(function () {
    if (!findChromium()) this.skip();
  });
  after(() => closeStaticRenderer());

  it("renders a PNG of the layout's size", async () => {
    const png = await renderPng(
      lineChart([{ name: "a", y: [1, 3, 2] }], { width: 300, height: 200 }),
    );
    assert.ok(png);
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")]);
    // IHDR holds the width and height as big-endian 32-bit integers at bytes 16 and 20
    assert.equal(png.readUInt32BE(16), 300);
    assert.equal(png.readUInt32BE(20), 200);
  });

  it("passes exports whose figures draw and carry images", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-figures-good-"));
    const figure = lineChart([{ name: "a", y: [1, 3, 2] }], { title: "good" });
    writeExport(dir, "good", [figureBundle(figure, await renderPng(figure))]);
    const result = runCheck(dir);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /good\.html: 1 figures drawn and checked/);
  });

  it("fails a blank figure and a figure without a static image", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-figures-bad-"));
    const blank = figureBundle({ data: [], layout: { title: { text: "blank" } } });
    writeExport(dir, "bad", [blank]);
    const result = runCheck(dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /bad\.ipynb: cell 2: a figure has no static image\/png/);
    assert.match(result.stderr, /bad\.html: figure 1 of 1: plotly drew no traces/);
  });

  it("fails when there is nothing to check", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-figures-empty-"));
    const result = runCheck(dir);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /no executed notebooks or HTML exports in .*run 'npm run notebooks' first/,
    );
  });
});
