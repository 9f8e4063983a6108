/**
 * Opens JupyterLab on the repository with the project's tslab kernel
 * registered through JUPYTER_PATH. Without JupyterLab it opens the classic
 * Notebook when that is installed, and otherwise prints what to install.
 * Arguments after `npm run lab --` go to Jupyter, for example `--port 8890`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import {
  describeRejected,
  findPython,
  jupyterEnv,
  registerTslabKernel,
  repoRoot,
  type PythonSearch,
} from "./jupyter";

const LAB_PROBE = `import json, jupyterlab; print(json.dumps({"jupyterlab": jupyterlab.__version__}))`;
const NOTEBOOK_PROBE = `import json, notebook; print(json.dumps({"notebook": notebook.__version__}))`;

interface Launch {
  command: string;
  args: string[];
  description: string;
}

/** Returns the first executable called `name` on PATH. */
function findOnPath(name: string): string | null {
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(folder, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}

function missingLabMessage(
  labSearch: PythonSearch,
  notebookSearch: PythonSearch,
): string {
  return `Neither JupyterLab nor the classic Jupyter Notebook was found.
Interpreters checked for jupyterlab:
${describeRejected(labSearch)}
and for notebook:
${describeRejected(notebookSearch)}
Install one of them:
  any python3:       python3 -m venv .venv && .venv/bin/pip install jupyterlab
  Debian 12:         sudo apt-get update && sudo apt-get install jupyter-notebook
                     (Debian 12 has no JupyterLab package; this is the classic Notebook)
This script finds .venv/bin/python3 and /usr/bin/python3 by itself. For another
interpreter, set AEKIT_PYTHON, e.g. AEKIT_PYTHON=/opt/jupyter/bin/python3 npm run lab`;
}

function chooseLaunch(): Launch | null {
  const labSearch = findPython(LAB_PROBE);
  if (labSearch.found) {
    const { executable, versions } = labSearch.found;
    return {
      command: executable,
      args: ["-m", "jupyterlab"],
      description: `JupyterLab ${versions.jupyterlab} (${executable})`,
    };
  }
  const labCommand = findOnPath("jupyter-lab");
  if (labCommand) {
    return { command: labCommand, args: [], description: `JupyterLab (${labCommand})` };
  }
  const notebookSearch = findPython(NOTEBOOK_PROBE);
  if (notebookSearch.found) {
    const { executable, versions } = notebookSearch.found;
    return {
      command: executable,
      args: ["-m", "notebook"],
      description: `the classic Notebook ${versions.notebook} (${executable}), because JupyterLab is not installed`,
    };
  }
  console.error(missingLabMessage(labSearch, notebookSearch));
  return null;
}

function main(): void {
  const launch = chooseLaunch();
  if (!launch) {
    process.exitCode = 1;
    return;
  }
  const specPath = registerTslabKernel();
  console.log(`Opening ${launch.description}.`);
  console.log(
    `The TypeScript kernel is registered in ${path.relative(repoRoot, specPath)}.`,
  );

  // Jupyter binds to localhost by default, and --ip=127.0.0.1 keeps it on
  // loopback even where a user's Jupyter config sets another address.
  const args = [...launch.args, "--ip=127.0.0.1", ...process.argv.slice(2)];
  const child = spawn(launch.command, args, {
    cwd: repoRoot,
    env: jupyterEnv(),
    stdio: "inherit",
  });

  // Ctrl-C reaches Jupyter directly, which prompts for confirmation before it
  // stops, so this process waits for Jupyter instead of exiting first.
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("error", (error) => {
    console.error(`Could not start ${launch.command}: ${error.message}`);
    process.exitCode = 1;
  });
  child.on("close", (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

main();
