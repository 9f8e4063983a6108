import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { findPython, NBCLIENT_PROBE, repoRoot } from "../scripts/jupyter";
import {
  makeStudentNotebook,
  MANIFEST_NAME,
  MarkerError,
  stubSolutions,
  writeStudentNotebooks,
} from "../scripts/make-student";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const EXERCISES = path.join(repoRoot, "notebooks", "exercises");
const STUDENT = path.join(repoRoot, "build", "student");
const RUN_OUT = path.join(repoRoot, "build", "student-run");

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
  outputs?: { name?: string; text?: string | string[] }[];
  execution_count?: number | null;
}

interface Notebook {
  cells: Cell[];
}

interface ReportEntry {
  notebook: string;
  status: string;
  error: { cell: number | null; message: string } | null;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

const text = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join("") : (value ?? "");

function exerciseNames(): string[] {
  return fs
    .readdirSync(EXERCISES)
    .filter((name) => name.endsWith(".ipynb"))
    .sort();
}

/** Returns the 1-based position of the cell tagged "check", the one that calls the checker. */
function checkCellNumber(notebook: Notebook): number {
  const found = notebook.cells
    .map((cell, index) => ((cell.metadata?.tags ?? []).includes("check") ? index + 1 : 0))
    .filter((number) => number > 0);
  assert.equal(found.length, 1, "expected exactly one cell tagged check");
  return found[0];
}

function run(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(TSX, args, { cwd: repoRoot });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function hashFolder(folder: string): string {
  const hash = crypto.createHash("sha256");
  for (const name of fs.readdirSync(folder).sort()) {
    hash.update(name).update(fs.readFileSync(path.join(folder, name)));
  }
  return hash.digest("hex");
}

describe("make-student regions", () => {
  it("replaces a region with a throwing stub", () => {
    const source = [
      "function f(x: number): number {",
      "  // BEGIN SOLUTION",
      "  const y = x * 2;",
      "  return y;",
      "  // END SOLUTION",
      "}",
    ].join("\n");
    const { text: stubbed, regions } = stubSolutions(source, "nb cell 1");

    assert.equal(regions, 1);
    assert.equal(
      stubbed,
      [
        "function f(x: number): number {",
        "  // Your code here: replace the throw statement, then run the check cell.",
        '  throw new Error("not implemented");',
        "}",
      ].join("\n"),
    );
  });

  it("rejects a region without its end", () => {
    const source = "function f() {\n  // BEGIN SOLUTION\n  return 1;\n}";

    assert.throws(
      () => stubSolutions(source, "nb cell 3"),
      /^MarkerError: nb cell 3 line 2: "\/\/ BEGIN SOLUTION" has no "\/\/ END SOLUTION"/,
    );
  });

  it("rejects nested regions", () => {
    const source = "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION";

    assert.throws(
      () => stubSolutions(source, "nb cell 2"),
      /nb cell 2 line 2: "\/\/ BEGIN SOLUTION" inside the region opened at line 1/,
    );
  });

  it("rejects an end without a begin", () => {
    assert.throws(
      () => stubSolutions("return 1;\n// END SOLUTION", "nb cell 5"),
      /nb cell 5 line 2: "\/\/ END SOLUTION" without a "\/\/ BEGIN SOLUTION"/,
    );
  });

  it("rejects a notebook without a region", () => {
    const notebook = { cells: [{ cell_type: "code", source: ["const x = 1;"] }] };

    assert.throws(
      () => makeStudentNotebook(notebook, "empty.ipynb"),
      (error: unknown) =>
        error instanceof MarkerError &&
        /empty\.ipynb: no solution region found/.test(error.message),
    );
  });

  it("rejects markers in a markdown cell", () => {
    const notebook = {
      cells: [
        { cell_type: "markdown", source: ["// BEGIN SOLUTION\n", "// END SOLUTION"] },
      ],
    };

    assert.throws(
      () => makeStudentNotebook(notebook, "prose.ipynb"),
      /prose\.ipynb cell 1: solution markers belong in code cells only/,
    );
  });

  it("drops outputs and execution counts", () => {
    const notebook = {
      cells: [
        {
          cell_type: "code",
          source: ["f();\n", "// BEGIN SOLUTION\n", "g();\n", "// END SOLUTION"],
          outputs: [{ output_type: "stream", name: "stdout", text: ["1\n"] }],
          execution_count: 4,
        },
      ],
    };
    const { notebook: student } = makeStudentNotebook(notebook, "nb.ipynb");

    assert.deepEqual(student.cells[0].outputs, []);
    assert.equal(student.cells[0].execution_count, null);
    assert.deepEqual(student.cells[0].source, [
      "f();\n",
      "// Your code here: replace the throw statement, then run the check cell.\n",
      'throw new Error("not implemented");',
    ]);
  });
});

describe("make-student on the exercises", () => {
  it("writes every exercise and leaves the sources unchanged", () => {
    const before = hashFolder(EXERCISES);
    const out = fs.mkdtempSync(path.join(repoRoot, "build", "student-test-"));
    try {
      const written = writeStudentNotebooks(EXERCISES, out, () => {});

      assert.deepEqual(
        written.map((file) => path.basename(file)),
        exerciseNames(),
      );
      for (const name of exerciseNames()) {
        const student = readJson<Notebook>(path.join(out, name));
        const source = student.cells.map((cell) => text(cell.source)).join("\n");
        assert.doesNotMatch(source, /BEGIN SOLUTION|END SOLUTION/, name);
        assert.match(source, /throw new Error\("not implemented"\);/, name);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    assert.equal(hashFolder(EXERCISES), before);
  });

  it("rejects an output folder inside the sources", () => {
    assert.throws(
      () => writeStudentNotebooks(EXERCISES, path.join(EXERCISES, "student"), () => {}),
      /overlaps the sources/,
    );
  });

  it("rejects a link to the sources and their parent", () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      const link = path.join(scratch, "link");
      fs.symlinkSync(path.dirname(EXERCISES), link);
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, path.join(link, "exercises"), () => {}),
        /overlaps the sources \(one folder contains the other, possibly through a symbolic link\)/,
      );
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, path.join(link, "new"), () => {}),
        /overlaps the sources/,
      );
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, path.dirname(repoRoot), () => {}),
        /overlaps the sources/,
      );
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("keeps files it did not write", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      const homework = path.join(out, "sub", "my-homework.ipynb");
      fs.mkdirSync(path.dirname(homework));
      fs.writeFileSync(homework, "{}");
      writeStudentNotebooks(EXERCISES, out, () => {});
      assert.equal(fs.readFileSync(homework, "utf8"), "{}");

      // A student's copy with an exercise's name is not replaced.
      const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
      const name = exerciseNames()[0];
      fs.writeFileSync(path.join(fresh, name), "my answer");
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, fresh, () => {}),
        new RegExp(
          `contains ${name.replace(/\./g, "\\.")}, which make-student did not write`,
        ),
      );
      assert.equal(fs.readFileSync(path.join(fresh, name), "utf8"), "my answer");
      fs.rmSync(fresh, { recursive: true, force: true });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("rewrites its own notebooks and removes stale ones", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      writeStudentNotebooks(EXERCISES, out, () => {});
      // An exercise renamed since the last run leaves its old student version behind.
      const stale = path.join(out, "ex0-renamed.ipynb");
      fs.writeFileSync(stale, "{}");
      const manifest = path.join(out, MANIFEST_NAME);
      const listed = readJson<{ notebooks: Record<string, string> }>(manifest).notebooks;
      const staleHash = crypto.createHash("sha256").update("{}").digest("hex");
      fs.writeFileSync(
        manifest,
        JSON.stringify({ notebooks: { ...listed, "ex0-renamed.ipynb": staleHash } }),
      );

      const written = writeStudentNotebooks(EXERCISES, out, () => {});
      assert.equal(written.length, exerciseNames().length);
      assert.equal(fs.existsSync(stale), false);
      assert.deepEqual(
        Object.keys(readJson<{ notebooks: Record<string, string> }>(manifest).notebooks),
        exerciseNames(),
      );
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("rewrites identical notebooks without a manifest", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      writeStudentNotebooks(EXERCISES, out, () => {});
      // As after a run of an older version, which wrote no manifest
      fs.rmSync(path.join(out, MANIFEST_NAME));

      const written = writeStudentNotebooks(EXERCISES, out, () => {});
      assert.equal(written.length, exerciseNames().length);
      assert.ok(
        fs.existsSync(path.join(out, MANIFEST_NAME)),
        "the manifest is written again",
      );
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("keeps a student's answers in a generated notebook", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      writeStudentNotebooks(EXERCISES, out, () => {});
      const answered = path.join(out, exerciseNames()[1]);
      fs.appendFileSync(answered, " ");
      const before = fs.readFileSync(answered, "utf8");

      assert.throws(
        () => writeStudentNotebooks(EXERCISES, out, () => {}),
        /or which changed since it wrote them; move them away or choose another --out/,
      );
      assert.equal(fs.readFileSync(answered, "utf8"), before);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("rejects links, folders and files in the way", () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    const [first] = exerciseNames();
    try {
      // a folder where a notebook goes: rejected before anything is written
      const withFolder = path.join(scratch, "folder");
      fs.mkdirSync(path.join(withFolder, first), { recursive: true });
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, withFolder, () => {}),
        /contains ex1-kl-sparsity\.ipynb, which make-student did not write/,
      );
      assert.deepEqual(fs.readdirSync(withFolder), [first]);

      // a student notebook replaced by a link to a file elsewhere
      const elsewhere = path.join(scratch, "mywork.ipynb");
      fs.writeFileSync(elsewhere, "my answer");
      const withLink = path.join(scratch, "link");
      writeStudentNotebooks(EXERCISES, withLink, () => {});
      fs.rmSync(path.join(withLink, first));
      fs.symlinkSync(elsewhere, path.join(withLink, first));
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, withLink, () => {}),
        /would be written through a symbolic link that leads outside --out/,
      );
      assert.equal(fs.readFileSync(elsewhere, "utf8"), "my answer");

      // --out that is a file
      assert.throws(
        () => writeStudentNotebooks(EXERCISES, elsewhere, () => {}),
        /--out .*mywork\.ipynb is a file; choose a folder/,
      );
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("keeps a stale entry reached through a link", () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-student-"));
    try {
      const outside = path.join(scratch, "outside");
      fs.mkdirSync(outside);
      const victim = path.join(outside, "victim.ipynb");
      fs.writeFileSync(victim, "{}");
      const out = path.join(scratch, "out");
      writeStudentNotebooks(EXERCISES, out, () => {});
      fs.symlinkSync(outside, path.join(out, "link"));
      const manifest = path.join(out, MANIFEST_NAME);
      const listed = readJson<{ notebooks: Record<string, string> }>(manifest).notebooks;
      const victimHash = crypto.createHash("sha256").update("{}").digest("hex");
      fs.writeFileSync(
        manifest,
        JSON.stringify({ notebooks: { ...listed, "link/victim.ipynb": victimHash } }),
      );
      const lines: string[] = [];

      writeStudentNotebooks(EXERCISES, out, (line) => lines.push(line));
      assert.equal(fs.readFileSync(victim, "utf8"), "{}");
      assert.ok(
        lines.includes(
          "link/victim.ipynb: kept, because make-student did not write it as it is now",
        ),
        lines.join("\n"),
      );
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("gives each exercise one check cell after its solution", () => {
    for (const name of exerciseNames()) {
      const notebook = readJson<Notebook>(path.join(EXERCISES, name));
      const check = checkCellNumber(notebook);
      const solution = notebook.cells.findIndex((cell) =>
        /\/\/ BEGIN SOLUTION/.test(text(cell.source)),
      );

      assert.ok(solution >= 0, `${name} has no solution region`);
      assert.ok(
        solution + 1 < check,
        `${name}: the check cell comes before the solution`,
      );
      assert.match(text(notebook.cells[check - 1].source), /^check\w+\(\w+\);$/, name);
    }
  });
});

describe("student notebooks on the tslab kernel", function () {
  this.timeout(600_000);
  const jupyter = findPython(NBCLIENT_PROBE);
  let report: { notebooks: ReportEntry[] };

  before(async function () {
    if (!jupyter.found) {
      console.warn(
        "    skipped: no python3 with nbclient and nbconvert found " +
          `(install them or set AEKIT_PYTHON): ${jupyter.rejected.join("; ")}`,
      );
      this.skip();
    }
    const made = await run([path.join("scripts", "make-student.ts")]);
    assert.equal(made.code, 0, made.stderr);
    fs.rmSync(RUN_OUT, { recursive: true, force: true });
    const args = ["--dir", STUDENT, "--out", RUN_OUT];
    const ran = await run([
      path.join("scripts", "run-notebooks.ts"),
      ...args,
      ...["--metrics-out", path.join(RUN_OUT, "metrics")],
    ]);
    const reportPath = path.join(RUN_OUT, "report.json");
    assert.ok(fs.existsSync(reportPath), `no report.json:\n${ran.stdout}${ran.stderr}`);
    report = readJson(reportPath);
  });

  for (const name of exerciseNames()) {
    it(`${name} fails at its check cell`, () => {
      const entry = report.notebooks.find(
        (item) => item.notebook === `exercises/${name}`,
      );
      const check = checkCellNumber(readJson<Notebook>(path.join(EXERCISES, name)));

      assert.ok(entry, `exercises/${name} is missing from report.json`);
      assert.equal(entry.status, "failed", JSON.stringify(entry.error));
      assert.equal(entry.error?.cell, check, JSON.stringify(entry.error));
      assert.match(
        entry.error?.message ?? "",
        /^CheckFailedError: check\w+: \w+ failed all \d+ cases, because each call threw "Error: not implemented"\.$/,
      );
    });

    it(`${name} lists the cases in the check cell`, () => {
      const executed = readJson<Notebook>(path.join(RUN_OUT, "exercises", name));
      const check = checkCellNumber(executed);
      const stderr = (executed.cells[check - 1].outputs ?? [])
        .filter((output) => output.name === "stderr")
        .map((output) => text(output.text))
        .join("");

      assert.match(stderr, /Replace the throw statement with your implementation/);
      assert.match(stderr, /^Cases: .+; .+\.$/m);
      for (const cell of executed.cells.slice(0, check - 1)) {
        if (cell.cell_type === "code") assert.notEqual(cell.execution_count, null);
      }
    });
  }
});
