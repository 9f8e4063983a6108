/**
 * Helpers shared by run-notebooks.ts and lab.ts. They find a Python interpreter
 * that has the Jupyter packages a script needs. They also register the tslab
 * kernel in a Jupyter data folder inside build/, which leaves the user's own
 * kernel registry (~/.local/share/jupyter) alone.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

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
