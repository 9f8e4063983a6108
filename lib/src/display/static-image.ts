import * as fs from "node:fs";
import type { Browser, Page } from "playwright-core";
import type { Figure } from "../figures/types";

/** Where the kit looks for a Chromium binary; AEKIT_CHROMIUM overrides. */
const CHROMIUM_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

// Flags for a headless browser on a machine without a display or outside network
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// The browser closes after this long without a render, so an idle kernel holds no process
const IDLE_CLOSE_MS = 20_000;

let pagePromise: Promise<Page | undefined> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let skipReported = false;

/** Returns the Chromium binary to use, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const configured = process.env.AEKIT_CHROMIUM;
  if (configured) return fs.existsSync(configured) ? configured : undefined;
  return CHROMIUM_PATHS.find((p) => fs.existsSync(p));
}

async function openPage(): Promise<Page | undefined> {
  const executablePath = findChromium();
  if (process.env.AEKIT_STATIC_IMAGES === "0" || !executablePath) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const browser: Browser = await chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage();
  await page.addScriptTag({ path: require.resolve("plotly.js-dist-min/plotly.min.js") });
  return page;
}

function scheduleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void closeStaticRenderer(), IDLE_CLOSE_MS);
  // An idle timer must not keep the kernel or a script alive
  idleTimer.unref();
}

/** Closes the headless browser used for static images, if one is open. */
export async function closeStaticRenderer(): Promise<void> {
  const pending = pagePromise;
  pagePromise = undefined;
  if (idleTimer) clearTimeout(idleTimer);
  const page = await pending?.catch(() => undefined);
  await page?.context().browser()?.close();
}

/**
 * Renders a figure to PNG in headless Chromium with plotly.js's own toImage, or returns
 * undefined (and says so once) when no browser is available or rendering fails.
 * Set AEKIT_STATIC_IMAGES=0 to skip rendering.
 */
export async function renderPng(figure: Figure): Promise<Buffer | undefined> {
  pagePromise ??= openPage().catch((err: Error) => {
    reportSkip(`the browser failed to start (${err.message.split("\n")[0]})`);
    return undefined;
  });
  const page = await pagePromise;
  if (!page) {
    reportSkip(
      process.env.AEKIT_STATIC_IMAGES === "0"
        ? "AEKIT_STATIC_IMAGES=0"
        : "no Chromium found (install Debian's chromium package or set AEKIT_CHROMIUM)",
    );
    return undefined;
  }
  scheduleClose();
  const width = Number(figure.layout.width ?? 640);
  const height = Number(figure.layout.height ?? 400);
  const url = await page.evaluate(
    async ({ data, layout, width, height }) => {
      const plotly = (
        window as unknown as {
          Plotly: { toImage: (f: unknown, o: unknown) => Promise<string> };
        }
      ).Plotly;
      return plotly.toImage({ data, layout }, { format: "png", width, height });
    },
    { data: figure.data, layout: figure.layout, width, height },
  );
  return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
}

function reportSkip(reason: string): void {
  if (skipReported) return;
  skipReported = true;
  console.log(
    `aekit: static figure images skipped: ${reason}; figures still show interactively`,
  );
}
