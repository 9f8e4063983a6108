import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import {
  findPython,
  jupyterEnv,
  NBCLIENT_PROBE,
  registerTslabKernel,
  repoRoot,
} from "../scripts/jupyter";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const RUNNER = path.join(repoRoot, "scripts", "run-notebooks.ts");
const EXECUTOR = path.join(repoRoot, "scripts", "execute_notebook.py");
const FIXTURES = path.join(repoRoot, "test", "notebooks");
/** Per-cell timeout for the runs below, which hangs.ipynb spends in cell 2. */
const CELL_TIMEOUT_SECONDS = 6;

interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ReportEntry {
  notebook: string;
  status: string;
  executed: string | null;
  html: string | null;
  error: { cell: number | null; source: string | null; message: string } | null;
}

interface NotebookJson {
  cells: { execution_count?: number | null; outputs?: { text?: string | string[] }[] }[];
}

function collect(child: ChildProcess): Promise<RunOutput> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function startRunner(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(TSX, [RUNNER, ...args], { cwd: repoRoot, env });
}

function runRunner(args: string[], env?: NodeJS.ProcessEnv): Promise<RunOutput> {
  return collect(startRunner(args, env));
}

function makeWorkspace(): string {
  fs.mkdirSync(path.join(repoRoot, "build"), { recursive: true });
  return fs.mkdtempSync(path.join(repoRoot, "build", "runner-test-"));
}

function listFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      files.push(...listFiles(full));
    } else {
      files.push(full);
    }
  }
  return files.sort();
}

function hashFiles(folder: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const file of listFiles(folder)) {
    const digest = crypto
      .createHash("sha256")
      .update(fs.readFileSync(file))
      .digest("hex");
    hashes.set(path.relative(folder, file), digest);
  }
  return hashes;
}

/** Lists processes that run in `folder` or name it on their command line (Linux /proc). */
function processesUsing(folder: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const commandLine = fs
        .readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .replace(/\0/g, " ");
      if (
        cwd === folder ||
        cwd.startsWith(folder + path.sep) ||
        commandLine.includes(folder)
      ) {
        found.push(`${pid} ${commandLine}`);
      }
    } catch {
      // The process exited while being read, or belongs to another user.
    }
  }
  return found;
}

function killProcessesUsing(folder: string): void {
  if (!fs.existsSync("/proc")) {
    return;
  }
  for (const line of processesUsing(folder)) {
    try {
      process.kill(Number(line.split(" ")[0]), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function cellText(notebook: NotebookJson, index: number): string {
  return (notebook.cells[index].outputs ?? [])
    .map((output) =>
      Array.isArray(output.text) ? output.text.join("") : (output.text ?? ""),
    )
    .join("");
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

const jupyterSearch = findPython(NBCLIENT_PROBE);

describe("run-notebooks options and environment", function () {
  this.timeout(60_000);
  let workspace: string;

  before(() => {
    workspace = makeWorkspace();
  });

  after(() => {
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("names the packages to install when Jupyter is missing", async () => {
    const env = { ...process.env, AEKIT_PYTHON: "/nonexistent/python3" };
    const output = await runRunner(
      ["--dir", FIXTURES, "--out", path.join(workspace, "out")],
      env,
    );

    assert.equal(output.code, 1);
    assert.match(output.stderr, /AEKIT_PYTHON=\/nonexistent\/python3: not found/);
    assert.match(output.stderr, /apt-get install jupyter-nbconvert python3-nbclient/);
    assert.match(output.stderr, /pip install nbclient nbconvert/);
    assert.equal(fs.existsSync(path.join(workspace, "out")), false);
  });

  it("fails when the folder holds no notebooks", async () => {
    const empty = path.join(workspace, "empty");
    fs.mkdirSync(path.join(empty, ".ipynb_checkpoints"), { recursive: true });
    fs.copyFileSync(
      path.join(FIXTURES, "throws.ipynb"),
      path.join(empty, ".ipynb_checkpoints", "throws-checkpoint.ipynb"),
    );
    const output = await runRunner([
      "--dir",
      empty,
      "--out",
      path.join(workspace, "out"),
    ]);

    assert.equal(output.code, 1);
    assert.match(output.stderr, /No notebooks found in .*empty, so nothing was checked/);
  });

  it("fails when --only matches nothing", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--only", "no-such-notebook"]);

    assert.equal(output.code, 1);
    assert.match(
      output.stderr,
      /No notebook in test\/notebooks matches --only 'no-such-notebook'/,
    );
    assert.match(output.stderr, /throws\.ipynb/);
  });

  it("rejects an invalid --jobs value", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--jobs", "0"]);

    assert.equal(output.code, 2);
    assert.match(
      output.stderr,
      /invalid --jobs value '0': expected a positive whole number/,
    );
  });

  it("rejects --out equal to --dir", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--out", FIXTURES]);

    assert.equal(output.code, 2);
    assert.match(output.stderr, /--out must differ from --dir/);
  });
});

describe("run-notebooks on the test notebooks", function () {
  this.timeout(240_000);
  let workspace: string;
  let sources: string;
  let out: string;
  let sourceHashes: Map<string, string>;
  let run: RunOutput;
  let report: { notebooks: ReportEntry[]; interrupted: boolean };
  const entry = (notebook: string): ReportEntry => {
    const found = report.notebooks.find((item) => item.notebook === notebook);
    assert.ok(found, `${notebook} is missing from report.json`);
    return found;
  };

  before(async function () {
    if (!jupyterSearch.found) {
      console.warn(
        "    skipped: no python3 with nbclient and nbconvert found " +
          `(install them or set AEKIT_PYTHON): ${jupyterSearch.rejected.join("; ")}`,
      );
      this.skip();
    }
    workspace = makeWorkspace();
    sources = path.join(workspace, "notebooks");
    out = path.join(workspace, "out");
    fs.cpSync(FIXTURES, sources, { recursive: true });
    // A checkpoint copy of a failing notebook, which the runner must skip.
    fs.mkdirSync(path.join(sources, ".ipynb_checkpoints"));
    fs.copyFileSync(
      path.join(FIXTURES, "throws.ipynb"),
      path.join(sources, ".ipynb_checkpoints", "throws-checkpoint.ipynb"),
    );
    sourceHashes = hashFiles(sources);

    const args = [
      "--dir",
      sources,
      "--out",
      out,
      "--cell-timeout",
      String(CELL_TIMEOUT_SECONDS),
    ];
    run = await runRunner(args);
    const reportPath = path.join(out, "report.json");
    assert.ok(
      fs.existsSync(reportPath),
      `no report.json was written:\n${run.stdout}${run.stderr}`,
    );
    report = readJson(reportPath);
  });

  after(() => {
    if (workspace) {
      killProcessesUsing(workspace);
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  it("exits with status 1", () => {
    assert.equal(run.code, 1, run.stderr);
  });

  it("reports each notebook's status", () => {
    const statuses = Object.fromEntries(
      report.notebooks.map((item) => [item.notebook, item.status]),
    );
    assert.deepEqual(statuses, {
      "exercises/passes.ipynb": "passed",
      "exits.ipynb": "kernel died",
      "hangs.ipynb": "timed out",
      "raises-exception.ipynb": "passed",
      "throws.ipynb": "failed",
    });
    assert.equal(report.interrupted, false);
  });

  it("names the failing cell and its error", () => {
    const error = entry("throws.ipynb").error;
    assert.equal(error?.cell, 2);
    assert.equal(error?.message, "Error: planted failure in cell 2");
    assert.equal(error?.source, 'throw new Error("planted failure in cell 2");');
  });

  it("names the cell that timed out", () => {
    const error = entry("hangs.ipynb").error;
    assert.equal(error?.cell, 2);
    assert.equal(error?.message, `cell timed out after ${CELL_TIMEOUT_SECONDS} s`);
  });

  it("names the cell that killed the kernel", () => {
    const error = entry("exits.ipynb").error;
    assert.equal(error?.cell, 2);
    assert.equal(error?.source, "process.exit(1);");
    assert.equal(error?.message, "the kernel exited while running this cell");
  });

  it("prints a table with the first error", () => {
    assert.match(run.stdout, /^notebook\s+status\s+seconds\s+first error$/m);
    assert.match(
      run.stdout,
      /^throws\.ipynb\s+failed\s+\d+\.\d\s+cell 2: Error: planted failure in cell 2$/m,
    );
    assert.match(
      run.stdout,
      /^\s+source: throw new Error\("planted failure in cell 2"\);$/m,
    );
    assert.match(run.stdout, /^exercises\/passes\.ipynb\s+passed\s+\d+\.\d$/m);
  });

  it("runs the cells after a raises-exception cell", () => {
    const executed = readJson<NotebookJson>(path.join(out, "raises-exception.ipynb"));
    assert.match(cellText(executed, 2), /cell 3 ran/);
    assert.match(cellText(executed, 3), /cell 4 ran/);
  });

  it("stops a notebook at its failing cell", () => {
    const executed = readJson<NotebookJson>(path.join(out, "throws.ipynb"));
    assert.match(cellText(executed, 0), /cell 1 ran/);
    assert.equal(executed.cells[2].execution_count, null);
    assert.deepEqual(executed.cells[2].outputs, []);
  });

  it("mirrors the folders in the outputs", () => {
    const entryPaths = entry("exercises/passes.ipynb");
    assert.equal(
      entryPaths.executed,
      path.relative(repoRoot, path.join(out, "exercises", "passes.ipynb")),
    );
    assert.equal(
      entryPaths.html,
      path.relative(repoRoot, path.join(out, "exercises", "passes.html")),
    );
    const html = fs.readFileSync(path.join(out, "exercises", "passes.html"), "utf8");
    assert.match(html, /total = 6/);
  });

  it("leaves the source notebooks unchanged", () => {
    assert.deepEqual(hashFiles(sources), sourceHashes);
  });

  it("leaves no temporary files", () => {
    const temporary = listFiles(out).filter((file) => file.endsWith(".tmp"));
    assert.deepEqual(temporary, []);
  });

  it("leaves no kernel running", function () {
    if (!fs.existsSync("/proc")) {
      this.skip();
    }
    assert.deepEqual(processesUsing(workspace), []);
  });

  it("runs only the notebooks that --only matches", async () => {
    const onlyOut = path.join(workspace, "out-only");
    const output = await runRunner([
      "--dir",
      sources,
      "--out",
      onlyOut,
      "--only",
      "passes",
    ]);
    const onlyReport = readJson<{ notebooks: ReportEntry[] }>(
      path.join(onlyOut, "report.json"),
    );

    assert.equal(output.code, 0, output.stdout + output.stderr);
    assert.deepEqual(
      onlyReport.notebooks.map((item) => [item.notebook, item.status]),
      [["exercises/passes.ipynb", "passed"]],
    );
  });

  it("ends a notebook at --timeout", async () => {
    const timeoutOut = path.join(workspace, "out-timeout");
    const args = ["--dir", sources, "--out", timeoutOut, "--only", "hangs"];
    const output = await runRunner([...args, "--timeout", "4", "--cell-timeout", "200"]);
    const timeoutReport = readJson<{ notebooks: ReportEntry[] }>(
      path.join(timeoutOut, "report.json"),
    );

    assert.equal(output.code, 1, output.stdout + output.stderr);
    assert.equal(timeoutReport.notebooks[0].status, "timed out");
    assert.equal(
      timeoutReport.notebooks[0].error?.message,
      "notebook timed out after 4 s",
    );
  });

  it("counts an aborted cell as a failure", async () => {
    // Without the pause after a raises-exception cell, tslab aborts cell 3.
    registerTslabKernel();
    const executed = path.join(workspace, "out-abort", "raises-exception.ipynb");
    const args = [
      EXECUTOR,
      path.join(sources, "raises-exception.ipynb"),
      ...["--executed", executed, "--html", executed.replace(/\.ipynb$/, ".html")],
      ...[
        "--timeout",
        "120",
        "--cell-timeout",
        String(CELL_TIMEOUT_SECONDS),
        "--error-settle",
        "0",
      ],
    ];
    const python = jupyterSearch.found!.executable;
    const output = await collect(
      spawn(python, args, { cwd: repoRoot, env: jupyterEnv() }),
    );
    const lines = output.stdout.trim().split("\n");
    const result = JSON.parse(lines[lines.length - 1]);

    assert.equal(output.code, 0, output.stderr);
    assert.equal(result.status, "failed");
    assert.equal(result.cell, 3);
    assert.match(result.message, /execute_reply status 'abort'/);
  });

  it("stops the kernels on SIGINT", async function () {
    if (!fs.existsSync("/proc")) {
      this.skip();
    }
    const stopOut = path.join(workspace, "out-interrupted");
    const args = [
      "--dir",
      sources,
      "--out",
      stopOut,
      "--only",
      "hangs",
      "--cell-timeout",
      "200",
    ];
    const child = startRunner(args);
    const finished = collect(child);

    // Wait until the kernel of hangs.ipynb runs in the notebook folder.
    const deadline = Date.now() + 120_000;
    while (!processesUsing(sources).some((line) => line.includes("tslab"))) {
      assert.ok(Date.now() < deadline, "the kernel did not start within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill("SIGINT");
    const output = await finished;
    const stopReport = readJson<{ notebooks: ReportEntry[]; interrupted: boolean }>(
      path.join(stopOut, "report.json"),
    );

    assert.equal(output.code, 130, output.stdout + output.stderr);
    assert.equal(stopReport.interrupted, true);
    assert.equal(stopReport.notebooks[0].status, "interrupted");
    assert.deepEqual(processesUsing(sources), []);
    assert.deepEqual(
      listFiles(stopOut).map((file) => path.basename(file)),
      ["report.json"],
    );
  });
});
