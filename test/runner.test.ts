import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import {
  findPython,
  jupyterEnv,
  NBCLIENT_PROBE,
  overrideParameters,
  registerTslabKernel,
  repoRoot,
  type NotebookDocument,
} from "../scripts/jupyter";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const RUNNER = path.join(repoRoot, "scripts", "run-notebooks.ts");
const EXECUTOR = path.join(repoRoot, "scripts", "execute_notebook.py");
const FIXTURES = path.join(repoRoot, "test", "notebooks");
/** Notebooks that fail the type-check, which the runs that execute notebooks leave out. */
const TYPECHECK_FIXTURES = path.join(FIXTURES, "typecheck");
/** Per-cell timeout for the runs of hangs.ipynb, which spends it in cell 2. */
const CELL_TIMEOUT_SECONDS = 6;
/**
 * Per-cell timeout for the other runs. Importing aekit in a fresh tslab kernel
 * takes seconds on an idle machine and far longer on a busy one.
 */
const SLOW_CELL_TIMEOUT_SECONDS = 120;
/** The notebooks of the main run: every fixture but hangs.ipynb, which would wait for the timeout. */
const MAIN_RUN = [
  "exercises/passes",
  "exits",
  "metrics",
  "raises-exception",
  "throws",
  "tslab",
];

interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ReportEntry {
  notebook: string;
  status: string;
  seconds: number;
  executed: string | null;
  html: string | null;
  error: { cell: number | null; source: string | null; message: string } | null;
  cells: {
    cell: number;
    status: string;
    seconds: number | null;
    tensors?: number | null;
  }[];
  finalTensors: number | null;
  possibleLeaks: { cell: number; tensors: number }[];
  kernelPeakRssBytes: number | null;
  metrics: MetricEntry[];
}

interface MetricEntry {
  notebook: string;
  name: string;
  value: number;
  unit: string;
  mode: string;
  band: [number, number] | null;
  claim: string;
  status: string;
}

interface Report {
  notebooks: ReportEntry[];
  interrupted: boolean;
  mode: string;
}

interface NotebookJson {
  cells: {
    execution_count?: number | null;
    source: string | string[];
    outputs?: { text?: string | string[] }[];
  }[];
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

function notebookSource(notebook: NotebookJson, index: number): string {
  const source = notebook.cells[index].source;
  return Array.isArray(source) ? source.join("") : source;
}

/** Returns a notebook document with one code cell tagged parameters after a markdown cell. */
function parametersNotebook(source: string): NotebookDocument {
  return {
    cells: [
      { cell_type: "markdown", source: "# Parameters", metadata: {} },
      { cell_type: "code", source, metadata: { tags: ["parameters"] } },
    ],
  };
}

const jupyterSearch = findPython(NBCLIENT_PROBE);

describe("overrideParameters", () => {
  const values = (entries: [string, string][]): Map<string, string> => new Map(entries);

  it("replaces the initializers it names", () => {
    const document = parametersNotebook(
      "const epochs = 10; // training epochs\n" +
        "const rates: number[] = [1e-3];\n" +
        'const label = "mnist";\n',
    );
    const override = overrideParameters(
      "nb.ipynb",
      document,
      values([
        ["epochs", "2"],
        ["rates", "[1e-2, 1e-3]"],
      ]),
    );

    assert.equal(override.cellIndex, 1);
    assert.equal(
      override.source,
      "const epochs = 2; // training epochs\n" +
        "const rates: number[] = [1e-2, 1e-3];\n" +
        'const label = "mnist";\n',
    );
  });

  it("leaves the notebook unchanged", () => {
    const document = parametersNotebook("const epochs = 10;");
    overrideParameters("nb.ipynb", document, values([["epochs", "2"]]));
    assert.equal(document.cells[1].source, "const epochs = 10;");
  });

  it("reads a source stored as a list of lines", () => {
    const document = parametersNotebook("");
    document.cells[1].source = ["const a = 1;\n", 'const b = "x";'];
    const override = overrideParameters("nb.ipynb", document, values([["b", '"y"']]));
    assert.equal(override.source, 'const a = 1;\nconst b = "y";');
  });

  it("rejects a notebook without a parameters cell", () => {
    const document: NotebookDocument = {
      cells: [{ cell_type: "code", source: "const epochs = 1;", metadata: {} }],
    };
    assert.throws(
      () => overrideParameters("nb.ipynb", document, values([["epochs", "2"]])),
      /^Error: nb\.ipynb has no code cell tagged 'parameters', so --param cannot set epochs\./,
    );
  });

  it("rejects a name the cell does not declare", () => {
    const document = parametersNotebook("const epochs = 10;\nconst seed = 0;");
    assert.throws(
      () => overrideParameters("nb.ipynb", document, values([["epoch", "2"]])),
      /--param epoch: the parameters cell \(cell 2\) of nb\.ipynb has no 'const epoch = \.\.\.;' to override\. It declares epochs, seed\./,
    );
  });

  it("rejects values that are not one expression", () => {
    const document = parametersNotebook("const epochs = 10;");
    for (const value of ["", "2; process.exit(1)", "1); process.exit(1", "[1, 2"]) {
      assert.throws(
        () => overrideParameters("nb.ipynb", document, values([["epochs", value]])),
        /is not a TypeScript expression/,
        `value ${JSON.stringify(value)}`,
      );
    }
  });

  it("rejects values that change the declaration", () => {
    const document = parametersNotebook("const epochs = 10;");
    for (const value of ["1, 2", "1 // one"]) {
      assert.throws(
        () => overrideParameters("nb.ipynb", document, values([["epochs", value]])),
        /does not fit into 'const epochs = \.\.\.;' as one initializer/,
        `value ${JSON.stringify(value)}`,
      );
    }
  });
});

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

  it("rejects an invalid --mode value", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--mode", "quick"]);

    assert.equal(output.code, 2);
    assert.match(output.stderr, /invalid --mode value 'quick': expected fast or full/);
  });

  it("rejects --param without a value", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--param", "epochs"]);

    assert.equal(output.code, 2);
    assert.match(output.stderr, /invalid --param value 'epochs': expected NAME=VALUE/);
  });

  it("rejects --out equal to --dir", async () => {
    const output = await runRunner(["--dir", FIXTURES, "--out", FIXTURES]);

    assert.equal(output.code, 2);
    assert.match(output.stderr, /--out must differ from --dir/);
  });

  it("rejects --out overlapping --dir", async () => {
    const link = path.join(workspace, "link-to-fixtures");
    fs.symlinkSync(FIXTURES, link);
    const cases = [
      ["--dir", FIXTURES, "--out", path.join(FIXTURES, "exercises")],
      ["--dir", path.join(FIXTURES, "exercises"), "--out", FIXTURES],
      ["--dir", FIXTURES, "--out", link],
    ];
    for (const args of cases) {
      const output = await runRunner(args);

      assert.equal(output.code, 2, args.join(" "));
      assert.match(
        output.stderr,
        /--out .* and --dir .* overlap \(one contains the other, possibly through a symbolic link\)/,
      );
    }
    assert.equal(fs.existsSync(path.join(FIXTURES, "report.json")), false);
  });

  it("rejects an --out or --metrics-out in the course notebooks", async () => {
    const notebooks = path.join(repoRoot, "notebooks");
    const cases: [string[], RegExp][] = [
      [["--out", notebooks], /--out .* overlaps the course notebooks/],
      [["--out", path.join(notebooks, "new")], /--out .* overlaps the course notebooks/],
      [["--metrics-out", notebooks], /--metrics-out .* overlaps the course notebooks/],
      [["--metrics-out", path.join(FIXTURES, "m")], /--metrics-out .* lies inside --dir/],
    ];
    for (const [args, message] of cases) {
      const output = await runRunner(["--dir", FIXTURES, ...args]);

      assert.equal(output.code, 2, args.join(" "));
      assert.match(output.stderr, message);
    }
  });

  it("rejects an --out subfolder linked elsewhere", async () => {
    const out = path.join(workspace, "out-linked");
    const elsewhere = path.join(workspace, "elsewhere");
    fs.mkdirSync(out);
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(out, "exercises"));
    const output = await runRunner(["--dir", FIXTURES, "--out", out, "--only", "passes"]);

    assert.equal(output.code, 2);
    assert.match(
      output.stderr,
      /passes\.ipynb leads outside --out .* through a symbolic link/,
    );
    assert.deepEqual(fs.readdirSync(elsewhere), []);
  });

  it("rejects --param for a notebook without parameters", async () => {
    const out = path.join(workspace, "out-param");
    const args = ["--dir", FIXTURES, "--out", out, "--only", "passes"];
    const output = await runRunner([...args, "--param", "scale=2"]);

    assert.equal(output.code, 2);
    assert.match(
      output.stderr,
      /exercises\/passes\.ipynb has no code cell tagged 'parameters', so --param cannot set scale/,
    );
    assert.equal(fs.existsSync(out), false);
  });

  it("rejects --param with an unknown name", async () => {
    const args = ["--dir", FIXTURES, "--only", "metrics", "--param", "scael=2"];
    const output = await runRunner(args);

    assert.equal(output.code, 2);
    assert.match(
      output.stderr,
      /--param scael: the parameters cell \(cell 2\) of metrics\.ipynb has no 'const scael = \.\.\.;' to override\. It declares scale, label\./,
    );
  });
});

describe("run-notebooks type-check", function () {
  this.timeout(120_000);
  let workspace: string;

  before(function () {
    if (!jupyterSearch.found) {
      this.skip();
    }
    workspace = makeWorkspace();
  });

  after(() => {
    if (workspace) {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });

  it("stops before execution on a type error", async () => {
    const out = path.join(workspace, "out");
    const output = await runRunner([
      "--dir",
      TYPECHECK_FIXTURES,
      "--out",
      out,
      "--metrics-out",
      workspace,
    ]);
    const report = readJson<Report>(path.join(out, "report.json"));
    const junit = fs.readFileSync(path.join(out, "junit.xml"), "utf8");

    assert.equal(output.code, 1, output.stdout + output.stderr);
    assert.match(
      output.stdout,
      /^renamed-export\.ipynb, cell 2, line 4: error TS2724: '"aekit"' has no exported member named 'fitAutoencoder'/m,
    );
    assert.match(
      output.stdout,
      /^No notebook was run, because the type-check failed\.$/m,
    );
    assert.doesNotMatch(output.stdout, /^Running /m);
    assert.equal(report.notebooks[0].status, "type error");
    assert.equal(report.notebooks[0].error?.cell, 2);
    assert.match(report.notebooks[0].error?.message ?? "", /^line 4: TS2724: /);
    assert.match(junit, /<failure type="type error" message="cell 2: line 4: TS2724: /);
    assert.deepEqual(fs.readdirSync(out).sort(), ["junit.xml", "report.json"]);
  });
});

describe("run-notebooks on the test notebooks", function () {
  this.timeout(600_000);
  let workspace: string;
  let sources: string;
  let out: string;
  let metricsOut: string;
  let sourceHashes: Map<string, string>;
  let run: RunOutput;
  let report: Report;
  const entry = (notebook: string, from: Report = report): ReportEntry => {
    const found = from.notebooks.find((item) => item.notebook === notebook);
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
    metricsOut = path.join(workspace, "metrics");
    fs.cpSync(FIXTURES, sources, {
      recursive: true,
      filter: (source) => source !== TYPECHECK_FIXTURES,
    });
    // A checkpoint copy of a failing notebook, which the runner must skip.
    fs.mkdirSync(path.join(sources, ".ipynb_checkpoints"));
    fs.copyFileSync(
      path.join(FIXTURES, "throws.ipynb"),
      path.join(sources, ".ipynb_checkpoints", "throws-checkpoint.ipynb"),
    );
    sourceHashes = hashFiles(sources);

    const args = [
      ...["--dir", sources, "--out", out, "--metrics-out", metricsOut],
      ...MAIN_RUN.flatMap((name) => ["--only", name]),
      ...["--cell-timeout", String(SLOW_CELL_TIMEOUT_SECONDS), "--leak-threshold", "10"],
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
      "metrics.ipynb": "passed",
      "raises-exception.ipynb": "passed",
      "throws.ipynb": "failed",
      "tslab-semantics.ipynb": "passed",
    });
    assert.equal(report.interrupted, false);
    assert.equal(report.mode, "fast");
  });

  it("type-checks before execution", () => {
    assert.match(
      run.stdout,
      /^Type-checked \d+ code cell\(s\) of 6 notebook\(s\) in \d+\.\d s: no errors\.$/m,
    );
    assert.ok(run.stdout.indexOf("Type-checked") < run.stdout.indexOf("Running "));
  });

  it("names the failing cell and its error", () => {
    const error = entry("throws.ipynb").error;
    assert.equal(error?.cell, 2);
    assert.equal(error?.message, "Error: planted failure in cell 2");
    assert.equal(error?.source, 'throw new Error("planted failure in cell 2");');
  });

  it("names the cell that killed the kernel", () => {
    const error = entry("exits.ipynb").error;
    assert.equal(error?.cell, 2);
    assert.equal(error?.source, "process.exit(1);");
    assert.equal(error?.message, "the kernel exited while running this cell");
  });

  it("prints a table with the first error", () => {
    assert.match(
      run.stdout,
      /^notebook\s+status\s+seconds\s+peak MiB\s+tensors\s+first error$/m,
    );
    assert.match(
      run.stdout,
      /^throws\.ipynb\s+failed\s+\d+\.\d\s+\d+\s+-\s+cell 2: Error: planted failure in cell 2$/m,
    );
    assert.match(
      run.stdout,
      /^\s+source: throw new Error\("planted failure in cell 2"\);$/m,
    );
    assert.match(run.stdout, /^exercises\/passes\.ipynb\s+passed\s+\d+\.\d\s+\d+\s+-$/m);
    assert.match(run.stdout, /^metrics\.ipynb\s+passed\s+\d+\.\d\s+\d+\s+12$/m);
  });

  it("records the time and tensor count of each cell", () => {
    const cells = entry("metrics.ipynb").cells;
    assert.deepEqual(
      cells.map((cell) => [cell.cell, cell.status]),
      [
        [2, "ok"],
        [3, "ok"],
        [4, "ok"],
        [5, "skipped"],
        [6, "ok"],
        [7, "ok"],
        [8, "ok"],
      ],
    );
    for (const cell of cells) {
      assert.equal(typeof cell.seconds, "number", `cell ${cell.cell} has no time`);
    }
    // tfjs is not loaded after the parameters cell, so there is no count yet.
    assert.deepEqual(
      cells.map((cell) => cell.tensors ?? null),
      [null, 0, 0, null, 1, 13, 12],
    );
    assert.equal(entry("metrics.ipynb").finalTensors, 12);
    assert.equal(entry("exercises/passes.ipynb").finalTensors, null);
  });

  it("names a cell whose tensors stay allocated", () => {
    assert.deepEqual(entry("metrics.ipynb").possibleLeaks, [{ cell: 7, tensors: 11 }]);
    assert.match(
      run.stdout,
      /^\s+possible leak: the tensor count stayed 11 above its level before cell 7 until the end$/m,
    );
  });

  it("records the kernel's peak memory", function () {
    if (!fs.existsSync("/proc")) {
      this.skip();
    }
    const peak = entry("exercises/passes.ipynb").kernelPeakRssBytes;
    // A tslab kernel loads Node.js and the TypeScript compiler.
    assert.notEqual(peak, null);
    assert.ok(peak! > 50 * 2 ** 20, `peak ${peak}`);
  });

  it("skips a cell tagged skip-execution", () => {
    const executed = readJson<NotebookJson>(path.join(out, "metrics.ipynb"));
    assert.equal(executed.cells[4].execution_count, null);
    assert.deepEqual(executed.cells[4].outputs, []);
  });

  it("collects the metrics with their band status", () => {
    const rows = entry("metrics.ipynb").metrics.map((row) => [
      row.name,
      row.value,
      row.mode,
      row.status,
    ]);
    assert.deepEqual(rows, [
      ["scaled value", 2, "fast", "ok"],
      ["label length", 7, "fast", "no band"],
      ["mode check", 1, "fast", "drift"],
      ["claimed value", 2, "fast", "ok"],
    ]);
  });

  it("writes the course metric tables", () => {
    const metrics = readJson<{ mode: string; metrics: MetricEntry[] }>(
      path.join(metricsOut, "metrics.json"),
    );
    const markdown = fs.readFileSync(path.join(metricsOut, "metrics.md"), "utf8");
    const html = fs.readFileSync(path.join(metricsOut, "metrics.html"), "utf8");

    assert.equal(metrics.mode, "fast");
    assert.deepEqual(metrics.metrics[0], {
      notebook: "metrics.ipynb",
      name: "scaled value",
      value: 2,
      unit: "units",
      mode: "fast",
      band: [1, 3],
      claim: "",
      status: "ok",
    });
    assert.deepEqual(metrics.metrics[3], {
      notebook: "metrics.ipynb",
      name: "claimed value",
      value: 2,
      unit: "",
      mode: "fast",
      band: [0, 5],
      claim: "< 10",
      status: "ok",
    });
    assert.match(
      markdown,
      /^\| metrics\.ipynb \| mode check \| 1 \| {2}\| {2}\| 2 to 3 \| fast \| drift \|$/m,
    );
    assert.match(
      markdown,
      /^\| metrics\.ipynb \| claimed value \| 2 \| {2}\| < 10 \| 0 to 5 \| fast \| ok \|$/m,
    );
    assert.match(html, /<tr class="drift"><td>metrics\.ipynb<\/td><td>mode check<\/td>/);
  });

  it("warns about drift without failing", () => {
    assert.match(
      run.stdout,
      /^Metrics outside their band \(warnings; --strict-bands makes them failures\):\n {2}metrics\.ipynb: mode check = 1 \(band 2 to 3, fast mode\)$/m,
    );
  });

  it("sets AEKIT_MODE for the kernel", () => {
    const executed = readJson<NotebookJson>(path.join(out, "metrics.ipynb"));
    assert.match(cellText(executed, 2), /AEKIT_MODE=fast, label=default/);
  });

  it("writes a JUnit report", () => {
    const junit = fs.readFileSync(path.join(out, "junit.xml"), "utf8");
    assert.match(
      junit,
      /<testsuites name="notebooks" tests="6" failures="2" errors="0" skipped="0"/,
    );
    assert.match(
      junit,
      /<testcase classname="[\w.-]+\.notebooks\.exercises" name="exercises\/passes\.ipynb" time="\d+\.\d{3}"\/>/,
    );
    assert.match(
      junit,
      /name="throws\.ipynb" time="[\d.]+">\n {4}<failure type="failed" message="cell 2: Error: planted failure in cell 2">/,
    );
    assert.match(junit, /<failure type="kernel died" message="cell 2: the kernel exited/);
  });

  it("runs the cells after a raises-exception cell", () => {
    const executed = readJson<NotebookJson>(path.join(out, "raises-exception.ipynb"));
    assert.match(cellText(executed, 2), /cell 3 ran/);
    assert.match(cellText(executed, 3), /cell 4 ran/);
    assert.equal(entry("raises-exception.ipynb").cells[1].status, "raised");
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

  it("applies --mode full, --param and --strict-bands", async () => {
    const fullOut = path.join(workspace, "out-full");
    const fullMetrics = path.join(workspace, "metrics-full");
    const output = await runRunner([
      ...["--dir", sources, "--out", fullOut, "--metrics-out", fullMetrics],
      ...["--only", "metrics", "--mode", "full", "--strict-bands"],
      ...["--param", "scale=2", "--param", 'label="override"'],
      ...["--cell-timeout", String(SLOW_CELL_TIMEOUT_SECONDS)],
    ]);
    const fullReport = readJson<Report>(path.join(fullOut, "report.json"));
    const notebook = entry("metrics.ipynb", fullReport);
    const executed = readJson<NotebookJson>(path.join(fullOut, "metrics.ipynb"));

    assert.equal(output.code, 1, output.stdout + output.stderr);
    assert.equal(fullReport.mode, "full");
    assert.equal(notebook.status, "failed");
    assert.equal(
      notebook.error?.message,
      "metric outside its band: scaled value = 4 units (band 1 to 3, full mode)",
    );
    assert.deepEqual(
      notebook.metrics.map((row) => [row.name, row.value, row.mode, row.status]),
      [
        ["scaled value", 4, "full", "drift"],
        ["label length", 8, "full", "no band"],
        ["mode check", 1, "full", "ok"],
        ["claimed value", 4, "full", "ok"],
      ],
    );
    assert.equal(
      notebookSource(executed, 1),
      'const scale = 2;\nconst label = "override";',
    );
    assert.match(cellText(executed, 2), /AEKIT_MODE=full, label=override/);
    assert.match(
      output.stdout,
      /^Metrics outside their band \(failures under --strict-bands\):$/m,
    );
    assert.deepEqual(hashFiles(sources), sourceHashes);
  });

  it("names the cell that timed out", async () => {
    const hangsOut = path.join(workspace, "out-hangs");
    const args = ["--dir", sources, "--out", hangsOut, "--only", "hangs"];
    const output = await runRunner([
      ...args,
      ...["--metrics-out", hangsOut, "--no-typecheck"],
      ...["--cell-timeout", String(CELL_TIMEOUT_SECONDS)],
    ]);
    const error = entry(
      "hangs.ipynb",
      readJson(path.join(hangsOut, "report.json")),
    ).error;

    assert.equal(output.code, 1, output.stdout + output.stderr);
    assert.equal(error?.cell, 2);
    assert.equal(error?.message, `cell timed out after ${CELL_TIMEOUT_SECONDS} s`);
  });

  it("starts no notebook after a failure with --fail-fast", async () => {
    const failFastOut = path.join(workspace, "out-fail-fast");
    const output = await runRunner([
      ...["--dir", sources, "--out", failFastOut, "--metrics-out", failFastOut],
      ...["--only", "passes", "--only", "exits", "--only", "throws"],
      ...["--jobs", "1", "--fail-fast", "--no-typecheck"],
      ...["--cell-timeout", String(SLOW_CELL_TIMEOUT_SECONDS)],
    ]);
    const failFastReport = readJson<Report>(path.join(failFastOut, "report.json"));
    const junit = fs.readFileSync(path.join(failFastOut, "junit.xml"), "utf8");

    assert.equal(output.code, 1, output.stdout + output.stderr);
    assert.match(output.stdout, /^Type-check skipped \(--no-typecheck\)\.$/m);
    assert.deepEqual(
      failFastReport.notebooks.map((item) => [item.notebook, item.status]),
      [
        ["exercises/passes.ipynb", "passed"],
        ["exits.ipynb", "kernel died"],
        ["throws.ipynb", "not run"],
      ],
    );
    assert.equal(
      entry("throws.ipynb", failFastReport).error?.message,
      "not run: --fail-fast stopped the run after a failure",
    );
    assert.match(
      junit,
      /name="throws\.ipynb" time="0\.000">\n {4}<skipped message="not run: --fail-fast stopped the run after a failure"\/>/,
    );
  });

  it("ends a notebook at --timeout", async () => {
    const timeoutOut = path.join(workspace, "out-timeout");
    const args = ["--dir", sources, "--out", timeoutOut, "--only", "hangs"];
    const output = await runRunner([
      ...args,
      ...["--metrics-out", timeoutOut, "--no-typecheck"],
      ...["--timeout", "4", "--cell-timeout", "200"],
    ]);
    const timeoutReport = readJson<Report>(path.join(timeoutOut, "report.json"));

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
      ...["--dir", sources, "--out", stopOut, "--only", "hangs"],
      ...["--metrics-out", path.join(workspace, "metrics-interrupted")],
      ...["--cell-timeout", "200", "--no-typecheck"],
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
    const stopReport = readJson<Report>(path.join(stopOut, "report.json"));

    assert.equal(output.code, 130, output.stdout + output.stderr);
    assert.equal(stopReport.interrupted, true);
    assert.equal(stopReport.notebooks[0].status, "interrupted");
    assert.deepEqual(processesUsing(sources), []);
    assert.deepEqual(
      listFiles(stopOut).map((file) => path.basename(file)),
      ["junit.xml", "report.json"],
    );
  });
});
