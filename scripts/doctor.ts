/**
 * Checks the set-up a student needs to run the course notebooks, and prints what to fix.
 *
 * Required: Node.js 20 or later, the npm packages (aekit built, tslab, TensorFlow.js,
 * danfojs-node), a TensorFlow.js backend, and a Python with Jupyter's nbclient.
 * Recommended: the tslab kernel in the user's own Jupyter kernel list (JupyterLab and
 * VS Code need it; `npm run notebooks` and `npm run lab` register their own) and
 * Chromium for the static images of figures. Exits with status 1 when a required check
 * fails.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { findChromium } from "../lib/src/display/static-image";
import {
  describeRejected,
  findPython,
  NBCLIENT_PROBE,
  repoRoot,
  tslabBinary,
  type PythonProbe,
} from "./jupyter";

const MIN_NODE_MAJOR = 20;

type Status = "ok" | "warn" | "FAIL";

interface Finding {
  status: Status;
  /** The checked item and the result, in one line. */
  summary: string;
  /** Further lines with the details of the result. */
  details?: string[];
  /** The command or change that fixes a failed check or a warning. */
  fix?: string;
}

function ok(summary: string, details?: string[]): Finding {
  return { status: "ok", summary, details };
}

/** Builds a failed check: FAIL when it is required, warn when it is only recommended. */
function problem(
  required: boolean,
  summary: string,
  fix: string,
  details?: string[],
): Finding {
  return { status: required ? "FAIL" : "warn", summary, fix, details };
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  return spawnSync(command, args, {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
    env,
  });
}

function checkNode(): Finding[] {
  const findings: Finding[] = [];
  const major = Number(process.versions.node.split(".")[0]);
  findings.push(
    major >= MIN_NODE_MAJOR
      ? ok(`Node.js ${process.versions.node} (${MIN_NODE_MAJOR} or later required)`)
      : problem(
          true,
          `Node.js ${process.versions.node} is too old: ${MIN_NODE_MAJOR} or later is required`,
          `install Node.js ${MIN_NODE_MAJOR} or later (https://nodejs.org), then run npm ci`,
        ),
  );
  // Jupyter starts tslab through its "#!/usr/bin/env node" line, so the `node` on PATH
  // runs the kernel, which may differ from the one running this script.
  const onPath = run("node", ["--version"]);
  const version = onPath.status === 0 ? onPath.stdout.trim().replace(/^v/, "") : null;
  if (version === null) {
    findings.push(
      problem(
        true,
        "no `node` on PATH, so Jupyter cannot start the tslab kernel",
        `put the folder of ${process.execPath} on PATH`,
      ),
    );
  } else if (Number(version.split(".")[0]) < MIN_NODE_MAJOR) {
    findings.push(
      problem(
        true,
        `the \`node\` on PATH is ${version}, which starts the kernel: ` +
          `${MIN_NODE_MAJOR} or later is required`,
        `put Node.js ${MIN_NODE_MAJOR} or later first on PATH (this script runs on ${process.execPath})`,
      ),
    );
  }
  return findings;
}

function packageVersion(name: string): string | null {
  try {
    const file = require.resolve(`${name}/package.json`, { paths: [repoRoot] });
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

function checkPackages(): Finding[] {
  const names = ["tslab", "@tensorflow/tfjs", "danfojs-node"];
  const missing = names.filter((name) => packageVersion(name) === null);
  if (missing.length > 0) {
    return [
      problem(
        true,
        `npm packages not installed: ${missing.join(", ")}`,
        "run npm ci in the project folder",
      ),
    ];
  }
  const found = names.map((name) => `${name} ${packageVersion(name)}`).join(", ");
  return [ok(`npm packages: ${found}`)];
}

/** Returns the newest modification time of the files below `folder`, in milliseconds. */
function newestChange(folder: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    const time = entry.isDirectory() ? newestChange(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

/**
 * Loads aekit in a child process, as a notebook does, and initializes its backend.
 * The child prints one JSON line; exit status 3 means aekit did not load, 4 that no
 * backend initialized.
 */
const BACKEND_PROBE = `
let aekit;
try {
  aekit = require("aekit");
} catch (error) {
  console.error(error.message.split("\\n")[0]);
  process.exit(3);
}
aekit.initBackend({ quiet: true }).then(
  (backend) => console.log(JSON.stringify({ backend, tfjs: aekit.tf.version.tfjs })),
  (error) => {
    console.error(error.message);
    process.exit(4);
  },
);
`;

/** Checks that lib/dist exists, and warns when lib/src changed after the last build. */
function checkBuild(dist: string): Finding[] {
  if (!fs.existsSync(dist)) {
    const summary = "aekit is not built: lib/dist/index.js is missing";
    return [problem(true, summary, "run npm run build")];
  }
  const sourceChanged = newestChange(path.join(repoRoot, "lib", "src"));
  if (sourceChanged <= fs.statSync(dist).mtimeMs) return [];
  const summary =
    "lib/src changed after the last build, so notebooks import an older aekit";
  return [problem(false, summary, "run npm run build, then restart the kernels")];
}

/** Loads aekit and its backend in a child process (BACKEND_PROBE) and reports both. */
function checkBackend(): Finding[] {
  const reinstallWasm =
    "run npm ci to reinstall @tensorflow/tfjs-backend-wasm, and unset AEKIT_BACKEND";
  const probe = run(process.execPath, ["-e", BACKEND_PROBE]);
  const error = probe.stderr.trim().split("\n").pop() ?? "";
  if (probe.status === 3 || probe.error) {
    const summary = `aekit does not load: ${probe.error?.message ?? error}`;
    const fix = "run npm ci (which links lib/ as node_modules/aekit and builds it)";
    return [problem(true, summary, fix)];
  }
  if (probe.status !== 0) {
    const summary = `aekit loads, but no TensorFlow.js backend initialized: ${error}`;
    return [problem(true, summary, reinstallWasm)];
  }

  const { backend, tfjs } = JSON.parse(probe.stdout) as { backend: string; tfjs: string };
  const findings = [
    ok(`aekit loads from lib/dist; TensorFlow.js ${tfjs} runs on '${backend}'`),
  ];
  if (backend === "cpu") {
    const summary =
      "the 'cpu' backend is slow: training cells may exceed their time limits";
    findings.push(problem(false, summary, reinstallWasm));
  }
  return findings;
}

function checkAekit(): Finding[] {
  const dist = path.join(repoRoot, "lib", "dist", "index.js");
  const build = checkBuild(dist);
  if (!fs.existsSync(dist)) return build;
  return [...checkBackend(), ...build];
}

function checkJupyter(): { findings: Finding[]; python: PythonProbe | null } {
  const search = findPython(NBCLIENT_PROBE);
  if (search.found) {
    const { nbclient, nbconvert } = search.found.versions;
    const summary = `Jupyter: ${search.found.executable} has nbclient ${nbclient}, nbconvert ${nbconvert}`;
    return { findings: [ok(summary)], python: search.found };
  }
  const fix =
    "on Debian or Ubuntu: sudo apt-get install jupyter-nbconvert python3-nbclient; " +
    "elsewhere: python3 -m venv .venv && .venv/bin/pip install nbclient nbconvert " +
    "(or set AEKIT_PYTHON to a Python that has them)";
  const details = describeRejected(search).split("\n");
  const finding = problem(
    true,
    "no Python with nbclient and nbconvert found",
    fix,
    details,
  );
  return { findings: [finding], python: null };
}

interface KernelSpec {
  resource_dir: string;
  spec: { argv: string[]; language?: string; display_name?: string };
}

/**
 * Finds `command` on PATH, as `env` does when Jupyter starts a kernel. Folders named
 * node_modules/.bin are skipped: `npm run` adds them for this script, but Jupyter
 * started from a shell does not have them.
 */
function onPath(command: string): string | null {
  const folders = (process.env.PATH ?? "").split(path.delimiter);
  const npmBin = path.join("node_modules", ".bin");
  for (const folder of folders.filter((f) => !f.endsWith(npmBin))) {
    const candidate = path.join(folder, command);
    if (folder && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** Identifies the tslab that a kernel spec starts, by the package.json beside its bin/. */
function identifyTslab(binary: string): { ours: boolean; label: string } {
  const real = fs.realpathSync(binary);
  if (real === fs.realpathSync(tslabBinary)) {
    return { ours: true, label: `this project's tslab ${packageVersion("tslab")}` };
  }
  const manifest = path.join(path.dirname(real), "..", "package.json");
  const version = fs.existsSync(manifest)
    ? (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version?: string }).version
    : undefined;
  return {
    ours: false,
    label: `another tslab (${real}${version ? `, version ${version}` : ""})`,
  };
}

/** The command that registers this project's tslab in the kernel list of `interpreter`. */
function installCommand(interpreter: string): string {
  return `npx tslab install --python=${interpreter} --binary=${tslabBinary}`;
}

/**
 * Lists the user's own Jupyter kernels (without the build/jupyter folder that the runner
 * adds) through the jupyter_client module. `python -m jupyter kernelspec` would also need
 * the `jupyter-kernelspec` command, which Debian ships apart from the module, in the
 * jupyter-client package. Returns a failure when the listing fails.
 */
function listKernels(
  python: string,
): { specs: Record<string, KernelSpec> } | { failure: Finding } {
  const args = ["-m", "jupyter_client.kernelspecapp", "list", "--json"];
  const command = `${python} ${args.join(" ")}`;
  const listed = run(python, args);
  if (listed.status === 0) {
    try {
      const parsed = JSON.parse(listed.stdout) as {
        kernelspecs: Record<string, KernelSpec>;
      };
      return { specs: parsed.kernelspecs };
    } catch (error) {
      const summary = `\`${command}\` printed no valid JSON: ${(error as Error).message}`;
      const fix = `run \`${command}\` by hand and fix the Jupyter set-up it reports`;
      return { failure: problem(false, summary, fix) };
    }
  }
  const reason = listed.stderr.trim().split("\n").pop() || `exit status ${listed.status}`;
  const summary = `\`${command}\` failed: ${reason}`;
  const debian = python.startsWith("/usr/bin/")
    ? "on Debian or Ubuntu: sudo apt-get install python3-jupyter-client; elsewhere: "
    : "";
  const fix = `${debian}${python} -m pip install jupyter_client`;
  return { failure: problem(false, summary, fix) };
}

/** Checks that a kernel spec's first argument is a tslab that exists, and which one it is. */
function checkKernelSpec(name: string, kernel: KernelSpec, python: string): Finding {
  const command = kernel.spec.argv[0];
  const specFile = path.join(kernel.resource_dir, "kernel.json");
  const where = `kernel '${name}' in ${specFile} starts ${command}`;
  const binary = path.isAbsolute(command) ? command : onPath(command);
  if (!binary || !fs.existsSync(binary)) {
    const reason = path.isAbsolute(command)
      ? "which does not exist"
      : "which is not on PATH, so Jupyter started outside this folder cannot start it";
    return problem(false, `${where}, ${reason}`, installCommand(python));
  }

  const tslab = identifyTslab(binary);
  if (tslab.ours) return ok(`${where}: ${tslab.label}`);
  const tested = `the notebooks are tested with tslab ${packageVersion("tslab")}`;
  const summary = `${where}: ${tslab.label}, not this project's`;
  return problem(false, summary, `${installCommand(python)} (${tested})`);
}

function checkKernel(python: PythonProbe | null): Finding[] {
  if (!python) {
    const summary =
      "the tslab kernel registration was not checked, because Jupyter is missing";
    const fix = `install Jupyter (see the FAIL line above), then run ${installCommand("python3")}`;
    return [problem(false, summary, fix)];
  }
  const listed = listKernels(python.executable);
  if ("failure" in listed) return [listed.failure];
  const specs = listed.specs;

  const found = Object.entries(specs).find(
    ([name, kernel]) => name === "tslab" || kernel.spec.language === "typescript",
  );
  if (found) return [checkKernelSpec(found[0], found[1], python.executable)];
  const kernels = Object.keys(specs).join(", ") || "none";
  const summary =
    `no TypeScript kernel in the Jupyter kernel list of ${python.executable} ` +
    `(kernels: ${kernels}); JupyterLab and VS Code need one`;
  return [problem(false, summary, installCommand(python.executable))];
}

function checkChromium(): Finding[] {
  const found = findChromium();
  if (found) return [ok(`Chromium for the static images of figures: ${found}`)];
  const configured = process.env.AEKIT_CHROMIUM;
  const summary = configured
    ? `AEKIT_CHROMIUM=${configured} does not exist, so figures get no static image`
    : "no Chromium found, so figures get no static image (they still show in JupyterLab)";
  return [
    problem(
      false,
      summary,
      "on Debian or Ubuntu: sudo apt-get install chromium; elsewhere set " +
        "AEKIT_CHROMIUM to a Chromium or Chrome binary",
    ),
  ];
}

function print(finding: Finding): void {
  const indent = " ".repeat(8);
  console.log(`  ${finding.status.padEnd(5)} ${finding.summary}`);
  for (const line of finding.details ?? []) console.log(`${indent}${line.trim()}`);
  if (finding.fix && finding.status !== "ok") console.log(`${indent}fix: ${finding.fix}`);
}

function main(): number {
  console.log("aekit doctor: checking what the course notebooks need\n");
  const findings: Finding[] = [];
  const report = (items: Finding[]) => {
    items.forEach(print);
    findings.push(...items);
  };
  report(checkNode());
  report(checkPackages());
  report(checkAekit());
  const jupyter = checkJupyter();
  report(jupyter.findings);
  report(checkKernel(jupyter.python));
  report(checkChromium());

  const failed = findings.filter((f) => f.status === "FAIL").length;
  const warnings = findings.filter((f) => f.status === "warn").length;
  console.log(
    failed > 0
      ? `\n${failed} required check(s) failed and ${warnings} warning(s): fix the FAIL lines first.`
      : `\nAll required checks passed, with ${warnings} warning(s).`,
  );
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
