import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "..");
const SCRIPT = path.join(repoRoot, "scripts", "check-pack.sh");
/** The status check-pack.sh exits with when the npm registry cannot be reached. */
const REGISTRY_UNREACHABLE = 75;

describe("packed aekit", function () {
  // npm install from a warm cache took about 40 s on a 16-core machine; a cold one is slower
  this.timeout(600_000);

  it("installs, loads and type-checks in a fresh project", async function () {
    const child = spawn("bash", [SCRIPT], { cwd: repoRoot });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    if (code === REGISTRY_UNREACHABLE) {
      console.warn("    skipped: the npm registry cannot be reached");
      this.skip();
    }

    assert.equal(code, 0, output);
    assert.match(output, /aekit resolves to .*\/consumer\/node_modules\/aekit\//);
    assert.match(output, /backend (wasm|cpu|tensorflow), correlate2d \[\[-3\]\]/);
    assert.match(output, /consumer\.ts and aekit's declarations: no errors/);
    assert.match(output, /wrong\.ts is rejected with TS2322/);
  });
});
