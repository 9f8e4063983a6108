/**
 * Helpers shared by the notebook scripts. They find a Python interpreter that
 * has the Jupyter packages a script needs, and they register the tslab kernel
 * in a Jupyter data folder inside build/, which leaves the user's own kernel
 * registry (~/.local/share/jupyter) alone. They also find and read notebooks
 * and rewrite the parameters cell of a notebook before it runs.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import ts from "typescript";

export const repoRoot = path.resolve(__dirname, "..");

/** Jupyter data folder of the project, put first on JUPYTER_PATH for child processes. */
export const jupyterDataDir = path.join(repoRoot, "build", "jupyter");

/** The tslab binary installed by npm, which the kernel spec starts by absolute path. */
export const tslabBinary = path.join(repoRoot, "node_modules", ".bin", "tslab");

/**
 * Python code that prints the versions of nbclient and nbconvert, and fails
 * when nbclient predates 0.6.1, which added the on_cell_executed hook that
 * execute_notebook.py reads execute_reply statuses from.
 */
export const NBCLIENT_PROBE = `
import json, nbclient, nbconvert
from nbclient import NotebookClient
if not hasattr(NotebookClient, "on_cell_executed"):
    raise SystemExit(f"nbclient {nbclient.__version__} is too old, 0.6.1 or later is needed")
print(json.dumps({"nbclient": nbclient.__version__, "nbconvert": nbconvert.__version__}))
`;

export interface PythonProbe {
  executable: string;
  /** Module versions printed by the probe, keyed by module name. */
  versions: Record<string, string>;
}

export interface PythonSearch {
  found?: PythonProbe;
  /** One line per rejected candidate: the interpreter and why it was rejected. */
  rejected: string[];
}

/**
 * Lists the interpreters to try. AEKIT_PYTHON, when set, is the only candidate,
 * so that a wrong setting is reported rather than silently replaced.
 */
export function pythonCandidates(): string[] {
  const explicit = process.env.AEKIT_PYTHON;
  if (explicit) {
    return [explicit];
  }
  return [
    path.join(repoRoot, ".venv", "bin", "python3"),
    "python3",
    "/usr/bin/python3",
    "/usr/local/bin/python3",
  ];
}

/**
 * Runs `code` in each candidate interpreter and returns the first one where it
 * exits with status 0 and prints a JSON object of module versions.
 */
export function findPython(code: string): PythonSearch {
  const rejected: string[] = [];
  for (const executable of pythonCandidates()) {
    const label =
      executable === process.env.AEKIT_PYTHON ? `AEKIT_PYTHON=${executable}` : executable;
    if (path.isAbsolute(executable) && !fs.existsSync(executable)) {
      rejected.push(`${label}: not found`);
      continue;
    }
    const probe = spawnSync(executable, ["-c", code], {
      encoding: "utf8",
      timeout: 30_000,
    });
    if (probe.error) {
      rejected.push(`${label}: ${probe.error.message}`);
      continue;
    }
    if (probe.status !== 0) {
      const lines = probe.stderr.trim().split("\n");
      rejected.push(
        `${label}: ${lines[lines.length - 1] || `exit status ${probe.status}`}`,
      );
      continue;
    }
    try {
      return { found: { executable, versions: JSON.parse(probe.stdout) }, rejected };
    } catch {
      rejected.push(`${label}: unexpected probe output ${JSON.stringify(probe.stdout)}`);
    }
  }
  return { rejected };
}

/**
 * Writes build/jupyter/kernels/tslab/kernel.json, the spec that `tslab install`
 * writes, except that it starts this project's tslab by absolute path. Returns
 * the kernel spec's path.
 */
export function registerTslabKernel(): string {
  if (!fs.existsSync(tslabBinary)) {
    throw new Error(`tslab not found at ${tslabBinary}. Run npm install first.`);
  }
  const spec = {
    argv: [tslabBinary, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
  const folder = path.join(jupyterDataDir, "kernels", "tslab");
  const specPath = path.join(folder, "kernel.json");
  fs.mkdirSync(folder, { recursive: true });
  // Two runs may register at the same time, so each writes its own file and renames it.
  const temporary = path.join(folder, `.kernel.json.${process.pid}.tmp`);
  fs.writeFileSync(temporary, JSON.stringify(spec, null, 2) + "\n");
  fs.renameSync(temporary, specPath);
  return specPath;
}

/** Returns `base` with the project's Jupyter data folder first on JUPYTER_PATH. */
export function jupyterEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const searchPath = [jupyterDataDir, base.JUPYTER_PATH]
    .filter(Boolean)
    .join(path.delimiter);
  return { ...base, JUPYTER_PATH: searchPath };
}

/** Formats the rejected candidates of a search as indented lines for an error message. */
export function describeRejected(search: PythonSearch): string {
  return search.rejected.map((line) => `  ${line}`).join("\n");
}

/** A notebook cell as nbformat 4 stores it. Only the fields that the scripts read are typed. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: unknown[];
  execution_count?: number | null;
  [key: string]: unknown;
}

/** A notebook as nbformat 4 stores it. */
export interface NotebookDocument {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The tag of the cell whose `const` declarations --param overrides, as in papermill. */
export const PARAMETERS_TAG = "parameters";
/** The tag of a cell that nbclient skips, and so does the type-check. */
export const SKIP_EXECUTION_TAG = "skip-execution";
/** The tag of a cell that is allowed to fail. */
export const RAISES_EXCEPTION_TAG = "raises-exception";

/** Lists the notebooks below `dir` as sorted relative paths, skipping dot folders and `exclude`. */
export function findNotebooks(dir: string, exclude?: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && full !== exclude) {
          walk(full);
        }
      } else if (entry.isFile() && entry.name.endsWith(".ipynb")) {
        found.push(path.relative(dir, full).split(path.sep).join("/"));
      }
    }
  };
  walk(dir);
  return found.sort();
}

/** Reads a notebook file, throwing an error that names the file when it is not a notebook. */
export function readNotebook(file: string): NotebookDocument {
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the notebook ${file}: ${(error as Error).message}`);
  }
  const cells = (document as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells)) {
    throw new Error(`cannot read the notebook ${file}: it has no "cells" list`);
  }
  return document as NotebookDocument;
}

/** Returns a cell's source as one string; nbformat may store it as a list of lines. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

export function cellTags(cell: NotebookCell): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags : [];
}

/** A parameters cell with its --param values applied. */
export interface ParametersOverride {
  /** Position of the cell in the notebook, counting from 0. */
  cellIndex: number;
  source: string;
}

/**
 * Rewrites the initializer of each `const NAME = ...;` in the first cell tagged
 * `parameters` with the TypeScript expression given for NAME, as text. Throws
 * an error naming the notebook when it has no such cell, when the cell declares
 * no NAME, or when a value does not parse as one expression. The notebook
 * itself is left unchanged.
 */
export function overrideParameters(
  notebook: string,
  document: NotebookDocument,
  values: ReadonlyMap<string, string>,
): ParametersOverride {
  const cellIndex = document.cells.findIndex(
    (cell) => cell.cell_type === "code" && cellTags(cell).includes(PARAMETERS_TAG),
  );
  if (cellIndex < 0) {
    throw new Error(
      `${notebook} has no code cell tagged '${PARAMETERS_TAG}', so --param cannot set ` +
        `${[...values.keys()].join(", ")}. Tag the cell that declares the parameters, ` +
        "or leave this notebook out with --only.",
    );
  }

  const original = cellSource(document.cells[cellIndex]);
  const declared = declaredParameters(original);
  const replacements: { start: number; end: number; text: string }[] = [];
  for (const [name, value] of values) {
    const initializer = declared.get(name);
    if (!initializer) {
      const names = [...declared.keys()].join(", ") || "no constants";
      throw new Error(
        `--param ${name}: the parameters cell (cell ${cellIndex + 1}) of ${notebook} ` +
          `has no 'const ${name} = ...;' to override. It declares ${names}.`,
      );
    }
    checkExpression(name, value);
    replacements.push({
      start: initializer.start,
      end: initializer.end,
      text: value.trim(),
    });
  }

  let source = original;
  for (const { start, end, text } of replacements.sort((a, b) => b.start - a.start)) {
    source = source.slice(0, start) + text + source.slice(end);
  }
  // A value such as `1, 2` or one ending in a line comment parses alone but
  // changes the meaning of the declaration it is put into.
  const rewritten = declaredParameters(source);
  for (const [name, value] of values) {
    const range = rewritten.get(name);
    if (!range || source.slice(range.start, range.end) !== value.trim()) {
      throw new Error(
        `--param ${name}=${value}: the value does not fit into 'const ${name} = ...;' ` +
          "as one initializer. Wrap it in parentheses.",
      );
    }
  }
  return { cellIndex, source };
}

/** Maps each top-level `const` or `let` with an initializer in `source` to the initializer's range. */
function declaredParameters(source: string): Map<string, { start: number; end: number }> {
  const file = ts.createSourceFile("parameters.ts", source, ts.ScriptTarget.ES2020, true);
  const found = new Map<string, { start: number; end: number }>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) {
      continue;
    }
    for (const declaration of statement.declarationList.declarations) {
      if (ts.isIdentifier(declaration.name) && declaration.initializer) {
        const initializer = declaration.initializer;
        found.set(declaration.name.text, {
          start: initializer.getStart(file),
          end: initializer.getEnd(),
        });
      }
    }
  }
  return found;
}

/** Throws unless `value` parses as exactly one TypeScript expression. */
function checkExpression(name: string, value: string): void {
  const text = `const value = (${value}\n);`;
  const file = ts.createSourceFile("value.ts", text, ts.ScriptTarget.ES2020, true);
  const { diagnostics = [] } = ts.transpileModule(text, { reportDiagnostics: true });
  const statement = file.statements[0];
  const single =
    file.statements.length === 1 &&
    ts.isVariableStatement(statement) &&
    statement.declarationList.declarations.length === 1;
  if (value.trim() === "" || diagnostics.length > 0 || !single) {
    const reason =
      diagnostics.length > 0
        ? ts.flattenDiagnosticMessageText(diagnostics[0].messageText, " ")
        : "expected one expression";
    throw new Error(
      `--param ${name}=${value}: the value is not a TypeScript expression (${reason}). ` +
        `Quote strings for the shell as well, e.g. --param '${name}="text"'.`,
    );
  }
}
