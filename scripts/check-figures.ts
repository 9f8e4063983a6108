// Checks the executed notebooks in build/notebooks/: every figure carries a static PNG,
// every notebook stays under the size budget, and every figure in each HTML export draws
// in headless Chromium (plotly made its traces and the area has non-blank pixels).
// Usage: npx tsx scripts/check-figures.ts [--dir build/notebooks]
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { findChromium } from "../lib/src/display/static-image";

/** An executed notebook holds plotly.js once (about 4.8 MB) plus its figures and outputs. */
const NOTEBOOK_BUDGET_BYTES = 8 * 1024 * 1024;
/** A drawn figure has at least this fraction of non-white pixels; a blank one has none. */
const MIN_INK_FRACTION = 0.005;

interface Problem {
  file: string;
  message: string;
}

function listFiles(dir: string, extension: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(extension) && !name.includes(".ipynb_checkpoints"))
    .map((name) => path.join(dir, name))
    .sort();
}

interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
}

/** Checks the static images and the size of one executed notebook. */
function checkNotebook(file: string): { figures: number; problems: Problem[] } {
  const problems: Problem[] = [];
  const size = fs.statSync(file).size;
  if (size > NOTEBOOK_BUDGET_BYTES) {
    problems.push({
      file,
      message: `${(size / 2 ** 20).toFixed(1)} MB exceeds the ${NOTEBOOK_BUDGET_BYTES / 2 ** 20} MB budget`,
    });
  }
  const notebook = JSON.parse(fs.readFileSync(file, "utf8")) as {
    cells: { outputs?: NotebookOutput[] }[];
  };
  let figures = 0;
  notebook.cells.forEach((cell, index) => {
    for (const output of cell.outputs ?? []) {
      if (!output.data?.["application/vnd.plotly.v1+json"]) continue;
      figures++;
      if (!output.data["image/png"]) {
        problems.push({
          file,
          message: `cell ${index + 1}: a figure has no static image/png`,
        });
      }
    }
  });
  return { figures, problems };
}

/** Opens an HTML export and checks that every figure drew. */
async function checkHtml(
  page: import("playwright-core").Page,
  file: string,
): Promise<{ figures: number; problems: Problem[] }> {
  const problems: Problem[] = [];
  await page.goto("file://" + path.resolve(file), { waitUntil: "load", timeout: 60_000 });
  const figures = page.locator(".aekit-figure");
  const count = await figures.count();
  for (let i = 0; i < count; i++) {
    const figure = figures.nth(i);
    const traces = await figure.locator(".main-svg .trace, .main-svg .hm").count();
    if (traces === 0) {
      problems.push({
        file,
        message: `figure ${i + 1} of ${count}: plotly drew no traces`,
      });
      continue;
    }
    const png = await figure.screenshot();
    const ink = await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = "data:image/png;base64," + base64;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d")!;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      let inked = 0;
      for (let p = 0; p < pixels.length; p += 4) {
        if (pixels[p] < 240 || pixels[p + 1] < 240 || pixels[p + 2] < 240) inked++;
      }
      return inked / (pixels.length / 4);
    }, png.toString("base64"));
    if (ink < MIN_INK_FRACTION) {
      problems.push({
        file,
        message: `figure ${i + 1} of ${count} is blank (${(ink * 100).toFixed(2)}% ink)`,
      });
    }
  }
  return { figures: count, problems };
}

async function main(): Promise<number> {
  const flag = process.argv.indexOf("--dir");
  const dir = flag >= 0 ? process.argv[flag + 1] : path.join("build", "notebooks");
  const notebooks = listFiles(dir, ".ipynb");
  const pages = listFiles(dir, ".html");
  if (notebooks.length === 0 || pages.length === 0) {
    console.error(
      `check-figures: no executed notebooks or HTML exports in ${dir}; run 'npm run notebooks' first`,
    );
    return 1;
  }
  const problems: Problem[] = [];
  const rows: string[] = [];
  for (const file of notebooks) {
    const result = checkNotebook(file);
    problems.push(...result.problems);
    rows.push(
      `${path.relative(dir, file)}: ${result.figures} figures, ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MB`,
    );
  }
  const executablePath = findChromium();
  if (!executablePath) {
    console.error(
      "check-figures: no Chromium found; install Debian's chromium package or set AEKIT_CHROMIUM",
    );
    return 1;
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    for (const file of pages) {
      const result = await checkHtml(page, file);
      problems.push(...result.problems);
      rows.push(
        `${path.relative(dir, file)}: ${result.figures} figures drawn and checked`,
      );
    }
  } finally {
    await browser.close();
  }
  console.log(rows.join("\n"));
  if (problems.length) {
    console.error(`\n${problems.length} figure problems:`);
    for (const p of problems)
      console.error(`  ${path.relative(dir, p.file)}: ${p.message}`);
    return 1;
  }
  console.log("\nevery figure has a static image and draws in the HTML export");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`check-figures: ${err.message}`);
    process.exit(1);
  },
);
