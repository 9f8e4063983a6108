import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { repoRoot } from "../scripts/jupyter";

const TSX = path.join(repoRoot, "node_modules", ".bin", "tsx");
const SCRIPT = path.join(repoRoot, "scripts", "bench.ts");

function runBench(args: string[]) {
  return spawnSync(TSX, [SCRIPT, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 60_000,
  });
}

interface BenchOutput {
  environment: {
    backend: string;
    threads: number | null;
    versions: Record<string, string>;
    loadAverage: { start: number[]; end: number[] };
  };
  results: Record<
    string,
    { value: number; unit: string; repeats: number[]; peakRssMiB: number }
  >;
}

const isPositiveFinite = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) && value > 0;

describe("npm run bench", function () {
  this.timeout(60_000);

  it("prints one JSON object with --json", function () {
    const run = runBench([
      "--quick",
      "--json",
      "--only",
      "correlate",
      "--only",
      "dense-ae.infer",
    ]);
    assert.equal(run.status, 0, run.stderr);
    const output = JSON.parse(run.stdout) as BenchOutput;

    assert.deepEqual(Object.keys(output).sort(), ["environment", "results"]);
    assert.ok(["tensorflow", "wasm", "cpu"].includes(output.environment.backend));
    assert.equal(output.environment.versions.node, process.version);
    assert.match(output.environment.versions.tfjs, /^\d+\.\d+\.\d+/);
    assert.equal(output.environment.loadAverage.start.length, 3);

    assert.deepEqual(Object.keys(output.results), ["dense-ae.infer", "correlate"]);
    assert.equal(output.results["dense-ae.infer"].unit, "samples/s");
    assert.equal(output.results.correlate.unit, "ms/call");
    for (const [name, result] of Object.entries(output.results)) {
      assert.ok(isPositiveFinite(result.value), `${name} value ${result.value}`);
      assert.ok(isPositiveFinite(result.peakRssMiB), `${name} peak ${result.peakRssMiB}`);
      assert.equal(result.repeats.length, 2, `${name} repeats`);
      assert.ok(
        result.repeats.every(isPositiveFinite),
        `${name} repeats ${result.repeats}`,
      );
    }
  });

  it("names the workload in the table", function () {
    const run = runBench(["--quick", "--only", "correlate"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^correlate\s+\S+\s+ms\/call\s+\d+$/m);
  });

  it("runs on TensorFlow.js's kernels with --tfjs-kernels", function () {
    const run = runBench([
      "--quick",
      "--json",
      "--tfjs-kernels",
      "--only",
      "dense-ae.infer",
    ]);
    assert.equal(run.status, 0, run.stderr);
    const output = JSON.parse(run.stdout) as BenchOutput & {
      environment: { kernels: string };
    };
    assert.equal(output.environment.kernels, "tfjs");
    assert.ok(isPositiveFinite(output.results["dense-ae.infer"].value));
    if (output.environment.backend === "wasm") {
      assert.match(run.stderr, /TensorFlow.js's own BatchMatMul, _FusedMatMul, GatherV2/);
    }
  });

  it("rejects an unknown workload", function () {
    const run = runBench(["--only", "correlate3d"]);
    assert.equal(run.status, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /--only must name a workload, got 'correlate3d'/);
    assert.match(run.stderr, /allowed: dense-ae\.train, .*matchTemplate, course/);
  });

  it("rejects an unknown option", function () {
    const run = runBench(["--fast"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown option '--fast'; allowed: --json, --only NAME/);
  });

  it("rejects --only without a name", function () {
    const run = runBench(["--json", "--only"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--only needs a workload name/);
  });
});
