import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

// initBackend caches its choice for the life of the process, so each scenario runs in a
// fresh `node` child that loads the kit's TypeScript sources through tsx.
const ROOT = path.join(__dirname, "..");
const SELECT = path.join(ROOT, "lib", "src", "backend", "select.ts");
const KERNELS = path.join(ROOT, "lib", "src", "backend", "kernels.ts");
const CHILD_TIMEOUT_MS = 45_000;
const RESULT_PREFIX = "RESULT ";

/** What a child process printed: its RESULT object and the kit's log lines. */
interface ChildOutput {
  result: Record<string, unknown>;
  kitLogs: string[];
}

interface Scenario {
  /** AEKIT_BACKEND for the child; undefined leaves it unset. */
  backendEnv?: string;
  /** Body of an async function with `select`, `kernels`, `tf`, `attempt` and `report` in scope. */
  body: string;
}

/**
 * Runs `scenario` in a child process and returns what it reported. `attempt(f)` returns
 * `{ value }` or `{ error, message }`, so a scenario can report an expected error.
 */
async function runChild({ backendEnv, body }: Scenario): Promise<ChildOutput> {
  const script = `
    const select = require(${JSON.stringify(SELECT)});
    const kernels = require(${JSON.stringify(KERNELS)});
    const tf = require("@tensorflow/tfjs");
    const report = (value) => console.log(${JSON.stringify(RESULT_PREFIX)} + JSON.stringify(value));
    const attempt = async (f) => {
      try {
        return { value: await f() };
      } catch (e) {
        return { error: e.name, message: e.message };
      }
    };
    (async () => { ${body} })().catch((e) => {
      report({ crashed: String(e && e.stack) });
    });
  `;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AEKIT_BACKEND;
  if (backendEnv !== undefined) env.AEKIT_BACKEND = backendEnv;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "-e", script],
    { cwd: ROOT, env, timeout: CHILD_TIMEOUT_MS },
  );
  const lines = stdout.split("\n");
  const resultLine = lines.find((line) => line.startsWith(RESULT_PREFIX));
  assert.ok(resultLine, `the child printed no result; its output was:\n${stdout}`);
  const result = JSON.parse(resultLine.slice(RESULT_PREFIX.length)) as Record<
    string,
    unknown
  >;
  assert.equal(result.crashed, undefined, `the child crashed: ${String(result.crashed)}`);
  return { result, kitLogs: lines.filter((line) => line.startsWith("aekit:")) };
}

const SCENARIOS = {
  forcedCpu: {
    backendEnv: "cpu",
    body: `
      const first = await select.initBackend();
      const second = await select.initBackend();
      report({
        first,
        second,
        active: tf.getBackend(),
        resizeGradReplaced:
          kernels.tfjsKernelReplacedByKit("ResizeNearestNeighborGrad", "cpu") !== undefined,
      });
    `,
  },
  forcedWasm: {
    backendEnv: "wasm",
    body: `
      const name = await select.initBackend();
      report({
        name,
        active: tf.getBackend(),
        filterGradRegistered: tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined,
      });
    `,
  },
  quietWasm: {
    backendEnv: "wasm",
    body: `
      require("@tensorflow/tfjs-backend-wasm");
      const kernelsEarly = await attempt(() => kernels.registerKitKernels("wasm"));
      report({ kernelsEarly, name: await select.initBackend({ quiet: true }) });
    `,
  },
  invalid: {
    backendEnv: "gpu",
    body: `
      const failed = await attempt(() => select.initBackend());
      // A failed choice is not cached: the next call tries again with the new setting
      process.env.AEKIT_BACKEND = "cpu";
      const retried = await attempt(() => select.initBackend());
      report({ failed, retried });
    `,
  },
  forcedTensorflow: {
    backendEnv: "tensorflow",
    body: `report(await attempt(() => select.initBackend()));`,
  },
  automatic: {
    body: `
      const requireSucceeds = (() => {
        try {
          require("@tensorflow/tfjs-node");
          return true;
        } catch {
          return false;
        }
      })();
      report({
        requireSucceeds,
        nativeFactory: tf.findBackendFactory("tensorflow") !== null,
        name: await select.initBackend(),
      });
    `,
  },
  emptyEnv: {
    backendEnv: "",
    body: `report({ name: await select.initBackend() });`,
  },
  nativeRegistered: {
    // The kit chooses 'tensorflow' when a backend is registered under that name, as
    // tfjs-node's addon does. Here a second cpu backend plays that part.
    body: `
      tf.registerBackend("tensorflow", tf.findBackendFactory("cpu"));
      report({ name: await select.initBackend(), active: tf.getBackend() });
    `,
  },
} satisfies Record<string, Scenario>;

type ScenarioName = keyof typeof SCENARIOS;

describe("backend selection, each case in a new process", function () {
  // Each child loads TensorFlow.js and tsx (about 2.5 s on 2 cores), and they all run at once
  this.timeout(CHILD_TIMEOUT_MS * 2);
  const outputs = {} as Record<ScenarioName, ChildOutput>;

  before(async () => {
    const names = Object.keys(SCENARIOS) as ScenarioName[];
    const results = await Promise.all(names.map((name) => runChild(SCENARIOS[name])));
    names.forEach((name, i) => (outputs[name] = results[i]));
  });

  it("uses cpu when AEKIT_BACKEND=cpu and logs once", () => {
    const { result, kitLogs } = outputs.forcedCpu;
    assert.equal(result.first, "cpu");
    assert.equal(result.second, "cpu");
    assert.equal(result.active, "cpu");
    assert.equal(kitLogs.length, 1, `logs: ${JSON.stringify(kitLogs)}`);
    assert.match(kitLogs[0], /on the 'cpu' backend \(forced by AEKIT_BACKEND\)/);
  });

  it("registers the kit's kernels for the chosen backend", () => {
    assert.equal(outputs.forcedCpu.result.resizeGradReplaced, true);
    assert.equal(outputs.forcedWasm.result.filterGradRegistered, true);
  });

  it("uses wasm when AEKIT_BACKEND=wasm", () => {
    const { result, kitLogs } = outputs.forcedWasm;
    assert.equal(result.name, "wasm");
    assert.equal(result.active, "wasm");
    assert.deepEqual(kitLogs.length, 1);
    assert.match(kitLogs[0], /on the 'wasm' backend \(forced by AEKIT_BACKEND\)/);
  });

  it("logs nothing with quiet: true", () => {
    assert.equal(outputs.quietWasm.result.name, "wasm");
    assert.deepEqual(outputs.quietWasm.kitLogs, []);
  });

  it("rejects an unknown AEKIT_BACKEND and lists the allowed values", () => {
    const failed = outputs.invalid.result.failed as { error: string; message: string };
    assert.equal(failed.error, "AekitError");
    assert.match(failed.message, /AEKIT_BACKEND must be one of/);
    for (const allowed of ["'tensorflow'", "'wasm'", "'cpu'"]) {
      assert.ok(failed.message.includes(allowed), `${allowed} in: ${failed.message}`);
    }
    assert.match(failed.message, /got "gpu"/);
  });

  it("tries again after a rejected AEKIT_BACKEND", () => {
    assert.deepEqual(outputs.invalid.result.retried, { value: "cpu" });
  });

  it("explains how to install tfjs-node when AEKIT_BACKEND=tensorflow", () => {
    const { error, message } = outputs.forcedTensorflow.result as Record<string, string>;
    assert.equal(error, "AekitError");
    assert.match(message, /AEKIT_BACKEND=tensorflow, but that backend is not installed/);
    assert.match(message, /install @tensorflow\/tfjs-node/);
  });

  it("picks wasm although requiring tfjs-node succeeds", () => {
    const { result, kitLogs } = outputs.automatic;
    // The test means something only while the tfjs-node alias is installed
    assert.equal(result.requireSucceeds, true);
    assert.equal(
      result.nativeFactory,
      false,
      "the alias registers no 'tensorflow' backend",
    );
    assert.equal(result.name, "wasm");
    assert.equal(kitLogs.length, 1);
    assert.match(kitLogs[0], /\(chosen automatically\)/);
  });

  it("treats an empty AEKIT_BACKEND as unset", () => {
    assert.equal(outputs.emptyEnv.result.name, "wasm");
    assert.match(outputs.emptyEnv.kitLogs[0], /\(chosen automatically\)/);
  });

  it("picks a registered 'tensorflow' backend first", () => {
    assert.equal(outputs.nativeRegistered.result.name, "tensorflow");
    assert.equal(outputs.nativeRegistered.result.active, "tensorflow");
  });

  it("rejects registerKitKernels before the backend is initialized", () => {
    const early = outputs.quietWasm.result.kernelsEarly as Record<string, string>;
    const { error, message } = early;
    assert.equal(error, "AekitError");
    assert.match(message, /backend 'wasm' is not initialized/);
    assert.match(message, /tf\.setBackend\('wasm'\)/);
  });
});
