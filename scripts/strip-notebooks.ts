/**
 * Removes the outputs and execution counts from notebooks, so that the
 * notebooks in git hold only their sources.
 *
 * The rewrite parses the JSON, empties `outputs`, sets `execution_count` to
 * null and drops the timestamps that nbclient and JupyterLab record in
 * `metadata.execution` in each code cell. It writes the notebook back the way nbformat does:
 * indented by 1 space, non-ASCII characters as they are, and a trailing
 * newline. Keys keep their order; nbformat sorts them, so a notebook saved by
 * Jupyter keeps its text apart from the removed outputs. A notebook without
 * outputs is not rewritten, which makes a second run change nothing.
 *
 * Usage: npm run strip-notebooks -- [--check] [PATH ...]
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { findNotebooks, readNotebook, repoRoot, type NotebookDocument } from "./jupyter";

/** A code cell that carries outputs, an execution count or execution timestamps. */
export interface CellWithOutputs {
  /** Position of the cell in the notebook, counting every cell from 1. */
  cell: number;
  outputs: number;
  executionCount: number | null;
  /** True when the cell's metadata contains the timestamps of a run (`execution`). */
  timing: boolean;
}

/** Lists the code cells of `document` that carry outputs, an execution count or timestamps. */
export function findOutputs(document: NotebookDocument): CellWithOutputs[] {
  const found: CellWithOutputs[] = [];
  document.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") {
      return;
    }
    const outputs = Array.isArray(cell.outputs) ? cell.outputs.length : 0;
    const executionCount = cell.execution_count ?? null;
    const timing = cell.metadata?.execution !== undefined;
    if (outputs > 0 || executionCount !== null || timing) {
      found.push({ cell: index + 1, outputs, executionCount, timing });
    }
  });
  return found;
}

/** Formats a notebook as nbformat writes it: 1-space indentation and a trailing newline. */
export function formatNotebook(document: NotebookDocument): string {
  return JSON.stringify(document, null, 1) + "\n";
}

/** Returns `document` without outputs, execution counts and timestamps, leaving `document` unchanged. */
export function stripNotebook(document: NotebookDocument): NotebookDocument {
  const cells = document.cells.map((cell) => {
    if (cell.cell_type !== "code") {
      return cell;
    }
    const stripped = { ...cell, outputs: [], execution_count: null };
    if (cell.metadata?.execution !== undefined) {
      const metadata = { ...cell.metadata };
      delete metadata.execution;
      stripped.metadata = metadata;
    }
    return stripped;
  });
  return { ...document, cells };
}

/** Describes a cell found by findOutputs, such as "cell 3: 2 outputs, execution_count 5". */
export function describeOutputs(found: CellWithOutputs): string {
  const parts = [];
  if (found.outputs > 0) {
    parts.push(`${found.outputs} output(s)`);
  }
  if (found.executionCount !== null) {
    parts.push(`execution_count ${found.executionCount}`);
  }
  if (found.timing) {
    parts.push("timestamps in metadata.execution");
  }
  return `cell ${found.cell}: ${parts.join(", ")}`;
}

const USAGE = `Usage: npm run strip-notebooks -- [--check] [PATH ...]

Removes the outputs, execution counts and execution timestamps from the code
cells of each notebook in PATH, a notebook or a folder searched for *.ipynb
(default: notebooks). Notebooks without them are left untouched.

Options:
  --check      only list the notebooks and cells that carry outputs, and exit
               with status 1 if there are any
  -h, --help   print this help`;

/** Expands files and folders into notebook paths. */
function notebookPaths(targets: string[]): string[] {
  return targets.flatMap((target) => {
    const resolved = path.resolve(target);
    if (!fs.existsSync(resolved)) {
      throw new Error(`not found: ${target}`);
    }
    if (fs.statSync(resolved).isDirectory()) {
      return findNotebooks(resolved).map((name) => path.join(resolved, name));
    }
    return [resolved];
  });
}

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        check: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const targets =
    parsed.positionals.length > 0
      ? parsed.positionals
      : [path.join(repoRoot, "notebooks")];
  const files = notebookPaths(targets);
  const changed: string[] = [];
  for (const file of files) {
    const document = readNotebook(file);
    const found = findOutputs(document);
    if (found.length === 0) {
      continue;
    }
    const name = path.relative(process.cwd(), file);
    changed.push(name);
    if (parsed.values.check) {
      console.log(`${name}: ${found.map(describeOutputs).join("; ")}`);
    } else {
      fs.writeFileSync(file, formatNotebook(stripNotebook(document)));
      console.log(`stripped ${name} (${found.length} cell(s))`);
    }
  }
  if (parsed.values.check) {
    console.log(
      changed.length === 0
        ? `No outputs in ${files.length} notebook(s).`
        : `${changed.length} of ${files.length} notebook(s) carry outputs; ` +
            "run npm run strip-notebooks to remove them.",
    );
    return changed.length === 0 ? 0 : 1;
  }
  console.log(
    `Stripped ${changed.length} of ${files.length} notebook(s); ` +
      `${files.length - changed.length} had no outputs.`,
  );
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
