import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  findNotebooks,
  readNotebook,
  repoRoot,
  type NotebookDocument,
} from "../scripts/jupyter";
import {
  describeOutputs,
  findOutputs,
  formatNotebook,
  stripNotebook,
} from "../scripts/strip-notebooks";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const SCRIPT = path.join(repoRoot, "scripts", "strip-notebooks.ts");
const NOTEBOOKS = path.join(repoRoot, "notebooks");
const FIXTURES = path.join(repoRoot, "test", "notebooks");

/** Returns a notebook as Jupyter saves it after a run, with outputs, counts and timestamps. */
function executedNotebook(): NotebookDocument {
  return {
    cells: [
      { cell_type: "markdown", id: "a", metadata: {}, source: ["# Título\n", "ü"] },
      {
        cell_type: "code",
        execution_count: 3,
        id: "b",
        metadata: {
          execution: { "iopub.status.busy": "2026-01-01T00:00:00Z" },
          tags: ["parameters"],
        },
        outputs: [{ name: "stdout", output_type: "stream", text: ["x = 1\n"] }],
        source: ["const x = 1;\n", "x"],
      },
      {
        cell_type: "code",
        execution_count: null,
        id: "c",
        metadata: {},
        outputs: [],
        source: [],
      },
    ],
    metadata: { kernelspec: { name: "tslab" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

describe("notebook hygiene", () => {
  it("committed notebooks carry no outputs", () => {
    const offending: string[] = [];
    for (const name of findNotebooks(NOTEBOOKS)) {
      const found = findOutputs(readNotebook(path.join(NOTEBOOKS, name)));
      offending.push(
        ...found.map((cell) => `notebooks/${name} ${describeOutputs(cell)}`),
      );
    }
    assert.deepEqual(
      offending,
      [],
      `run npm run strip-notebooks to remove:\n${offending.join("\n")}`,
    );
  });
});

describe("strip-notebooks", () => {
  it("finds outputs, counts and timestamps", () => {
    assert.deepEqual(findOutputs(executedNotebook()), [
      { cell: 2, outputs: 1, executionCount: 3, timing: true },
    ]);
    assert.equal(
      describeOutputs(findOutputs(executedNotebook())[0]),
      "cell 2: 1 output(s), execution_count 3, timestamps in metadata.execution",
    );
  });

  it("removes them and keeps everything else", () => {
    const original = executedNotebook();
    const stripped = stripNotebook(original);
    const cell = stripped.cells[1];

    assert.deepEqual(cell.outputs, []);
    assert.equal(cell.execution_count, null);
    assert.deepEqual(cell.metadata, { tags: ["parameters"] });
    assert.deepEqual(cell.source, ["const x = 1;\n", "x"]);
    assert.deepEqual(Object.keys(cell), Object.keys(original.cells[1]));
    assert.deepEqual(stripped.cells[0], original.cells[0]);
    assert.deepEqual(stripped.metadata, original.metadata);
    assert.deepEqual(findOutputs(stripped), []);
    assert.equal(original.cells[1].execution_count, 3);
  });

  it("writes JSON as nbformat does", () => {
    const text = formatNotebook(stripNotebook(executedNotebook()));

    assert.ok(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",'));
    assert.ok(text.endsWith("}\n"));
    assert.match(text, /"# Título\\n",\n {4}"ü"/);
    assert.match(text, /"outputs": \[\],/);
  });

  it("keeps the text of nbformat's notebooks", () => {
    const files = [
      ...findNotebooks(NOTEBOOKS).map((name) => path.join(NOTEBOOKS, name)),
      ...findNotebooks(FIXTURES).map((name) => path.join(FIXTURES, name)),
    ];
    for (const file of files) {
      const text = fs.readFileSync(file, "utf8");
      assert.equal(formatNotebook(JSON.parse(text)), text, file);
    }
  });

  it("strips files once and then leaves them alone", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "aekit-strip-"));
    try {
      const file = path.join(folder, "run.ipynb");
      const clean = path.join(folder, "clean.ipynb");
      fs.writeFileSync(file, JSON.stringify(executedNotebook(), null, 2));
      fs.copyFileSync(path.join(FIXTURES, "throws.ipynb"), clean);
      const cleanText = fs.readFileSync(clean, "utf8");

      const check = spawnSync(TSX, [SCRIPT, "--check", folder], { encoding: "utf8" });
      assert.equal(check.status, 1, check.stderr);
      assert.match(check.stdout, /run\.ipynb: cell 2: 1 output\(s\), execution_count 3/);
      assert.doesNotMatch(check.stdout, /clean\.ipynb/);

      const first = spawnSync(TSX, [SCRIPT, folder], { encoding: "utf8" });
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /Stripped 1 of 2 notebook\(s\)/);
      const stripped = fs.readFileSync(file, "utf8");
      assert.equal(stripped, formatNotebook(stripNotebook(executedNotebook())));
      assert.equal(fs.readFileSync(clean, "utf8"), cleanText);

      const second = spawnSync(TSX, [SCRIPT, folder], { encoding: "utf8" });
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /Stripped 0 of 2 notebook\(s\)/);
      assert.equal(fs.readFileSync(file, "utf8"), stripped);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
