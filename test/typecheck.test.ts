import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

import {
  readNotebook,
  repoRoot,
  type NotebookCell,
  type NotebookDocument,
} from "../scripts/jupyter";
import {
  formatDiagnostic,
  SHORTHAND_CODE,
  typecheckNotebooks,
  type CellDiagnostic,
  type TypecheckResult,
} from "../scripts/typecheck-notebooks";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const SCRIPT = path.join(repoRoot, "scripts", "typecheck-notebooks.ts");
const FIXTURES = path.join(repoRoot, "test", "notebooks");
const RENAMED_EXPORT = path.join(FIXTURES, "typecheck", "renamed-export.ipynb");

function code(source: string, tags: string[] = []): NotebookCell {
  return {
    cell_type: "code",
    source,
    metadata: { tags },
    outputs: [],
    execution_count: null,
  };
}

function markdown(source: string): NotebookCell {
  return { cell_type: "markdown", source, metadata: {} };
}

/** A notebook in memory, placed in the fixture folder so that "aekit" resolves. */
function notebook(
  name: string,
  cells: NotebookCell[],
): {
  name: string;
  file: string;
  document: NotebookDocument;
} {
  return { name, file: path.join(FIXTURES, name), document: { cells } };
}

function runScript(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(TSX, [SCRIPT, ...args], { cwd: repoRoot });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("typecheckNotebooks", function () {
  // Building the program loads the types of Node.js, TensorFlow.js and aekit.
  this.timeout(120_000);
  let result: TypecheckResult;
  const diagnosticsOf = (name: string): CellDiagnostic[] =>
    result.diagnostics.filter((diagnostic) => diagnostic.notebook === name);

  before(() => {
    result = typecheckNotebooks([
      {
        name: "typecheck/renamed-export.ipynb",
        file: RENAMED_EXPORT,
        document: readNotebook(RENAMED_EXPORT),
      },
      notebook("tslab-scopes.ipynb", [
        markdown("# Cells see the declarations of earlier cells"),
        code(
          'import { tf } from "aekit";\n' +
            "const size = 3;\n" +
            "let total = 0;\n" +
            "interface Point { x: number; y: number }\n" +
            "function norm(point: Point): number { return Math.hypot(point.x, point.y); }",
        ),
        code(
          "total = total + size;\n" +
            "const point: Point = { x: 3, y: 4 };\n" +
            "await new Promise((resolve) => setTimeout(resolve, 1));\n" +
            "norm(point)",
        ),
        code(
          'const size = "three";\n' +
            'import * as path from "path";\n' +
            "const zeros = tf.zeros([size.length]);\n" +
            'path.basename("a/b") + size.toUpperCase()',
        ),
        code("const n: number = 'text';", ["skip-execution"]),
        code("const wrong: number = size;", ["raises-exception"]),
      ]),
      notebook("errors.ipynb", [
        code("const limit = 1;\nfunction helper() {}\nconst options = { limit };"),
        markdown("Numbering counts markdown cells."),
        code("limit = 2;\nhelper = null;"),
        code("const copy = { limit };\nconst explicit = { limit: limit };"),
        code(
          'const shadowed = (limit: number) => ({ limit });\n\nconst count: number = "one";',
        ),
      ]),
      notebook("separate.ipynb", [code("size + total;")]),
    ]);
  });

  it("names notebook, cell and line of a missing export", () => {
    const [diagnostic, ...rest] = diagnosticsOf("typecheck/renamed-export.ipynb");
    assert.deepEqual(rest, []);
    assert.equal(diagnostic.cell, 2);
    assert.equal(diagnostic.line, 4);
    assert.equal(diagnostic.code, "TS2724");
    assert.match(
      diagnostic.message,
      /'"aekit"' has no exported member named 'fitAutoencoder'/,
    );
    assert.equal(diagnostic.sourceLine, "fitAutoencoder,");
    assert.equal(diagnostic.allowed, false);
  });

  it("formats a diagnostic with its place and source", () => {
    const [diagnostic] = diagnosticsOf("typecheck/renamed-export.ipynb");
    assert.match(
      formatDiagnostic(diagnostic),
      /^typecheck\/renamed-export\.ipynb, cell 2, line 4: error TS2724: .*\n {4}fitAutoencoder,$/,
    );
  });

  it("accepts what tslab accepts", () => {
    const errors = diagnosticsOf("tslab-scopes.ipynb").filter((item) => !item.allowed);
    assert.deepEqual(errors.map(formatDiagnostic), []);
  });

  it("skips cells tagged skip-execution", () => {
    const cells = diagnosticsOf("tslab-scopes.ipynb").map((item) => item.cell);
    assert.ok(!cells.includes(5), `diagnostics in cell 5: ${cells}`);
  });

  it("allows errors in raises-exception cells", () => {
    const [allowed, ...rest] = diagnosticsOf("tslab-scopes.ipynb");
    assert.deepEqual(rest, []);
    assert.equal(allowed.cell, 6);
    assert.equal(allowed.code, "TS2322");
    assert.equal(allowed.allowed, true);
  });

  it("counts only errors that are not allowed", () => {
    const allowed = result.diagnostics.filter((item) => item.allowed).length;
    assert.equal(allowed, 1);
    assert.equal(result.errorCount, result.diagnostics.length - 1);
  });

  it("rejects assignments to earlier constants", () => {
    const [constant, fn] = diagnosticsOf("errors.ipynb").filter(
      (item) => item.cell === 3,
    );
    assert.equal(constant.line, 1);
    assert.equal(
      constant.message,
      "Cannot assign to 'limit' because it is a constant declared in cell 1.",
    );
    assert.equal(fn.line, 2);
    assert.equal(
      fn.message,
      "Cannot assign to 'helper' because it is a function declared in cell 1.",
    );
  });

  it("flags shorthand properties of earlier variables", () => {
    const shorthand = diagnosticsOf("errors.ipynb").filter(
      (item) => item.code === SHORTHAND_CODE,
    );
    assert.equal(shorthand.length, 1);
    assert.equal(shorthand[0].cell, 4);
    assert.equal(shorthand[0].line, 1);
    assert.equal(
      shorthand[0].message,
      "Shorthand property 'limit' names a variable of cell 1, which tslab 1.0.22 " +
        "fails to resolve at run time. Write 'limit: limit'.",
    );
  });

  it("counts lines within the cell", () => {
    const last = diagnosticsOf("errors.ipynb").filter((item) => item.cell === 5);
    assert.deepEqual(
      last.map((item) => [item.line, item.code]),
      [[3, "TS2322"]],
    );
    assert.equal(last[0].sourceLine, 'const count: number = "one";');
  });

  it("keeps notebooks apart", () => {
    const separate = diagnosticsOf("separate.ipynb");
    assert.deepEqual(
      separate.map((item) => item.message),
      ["Cannot find name 'size'.", "Cannot find name 'total'."],
    );
  });

  it("checks all notebooks in one program", () => {
    assert.equal(result.notebookCount, 4);
    // Code cells: 2 of renamed-export, 4 of tslab-scopes (one is skipped), 4 of errors, 1 of separate.
    assert.equal(result.cellCount, 11);
  });
});

describe("npm run typecheck:notebooks", function () {
  this.timeout(120_000);

  it("fails on the renamed export", async () => {
    const output = await runScript(["--dir", path.dirname(RENAMED_EXPORT)]);

    assert.equal(output.code, 1, output.stdout);
    assert.match(
      output.stdout,
      /^renamed-export\.ipynb, cell 2, line 4: error TS2724: /m,
    );
    assert.match(
      output.stdout,
      /^Type-checked 2 code cell\(s\) of 1 notebook\(s\) in \d+\.\d s: 1 error\(s\)\.$/m,
    );
  });

  it("passes on the course notebooks", async () => {
    const output = await runScript([]);

    assert.equal(output.code, 0, output.stdout);
    assert.match(output.stdout, /: no errors\.$/m);
  });
});
