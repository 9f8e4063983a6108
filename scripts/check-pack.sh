#!/usr/bin/env bash
# Checks that the aekit package works on its own. It packs lib/ as npm would publish it
# (the prepack script builds dist/) and installs the tarball into a fresh project outside
# the repository. There it loads the package and type-checks a file that uses its types.
# aekit's dependencies come from the npm registry, so an npm cache makes this fast.
#
# Exit status: 0 when every check passes, 1 when one fails, 75 when the npm registry
# cannot be reached (so a caller can tell a network problem from a broken package).
# Set AEKIT_KEEP_PACK=1 to keep the temporary folder for inspection.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/aekit-pack.XXXXXX")"
consumer="$work/consumer"

cleanup() {
  if [[ "${AEKIT_KEEP_PACK:-0}" == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

started=$SECONDS
step() { printf '\n=== %s (%d s)\n' "$1" "$((SECONDS - started))"; }
fail() {
  echo "check-pack: $1" >&2
  exit 1
}

step "npm pack -w lib (prepack builds lib/dist)"
mkdir -p "$work/pack"
(cd "$root" && npm pack -w lib --pack-destination "$work/pack" --json) >"$work/pack.json" ||
  fail "npm pack failed; see the output above"
tarball="$work/pack/$(node -p 'require(process.argv[1])[0].filename' "$work/pack.json")"
[[ -f "$tarball" ]] || fail "npm pack wrote no tarball to $work/pack"
echo "$(basename "$tarball"): $(du -k "$tarball" | cut -f1) KiB"

step "tarball contents"
tar -tzf "$tarball" >"$work/contents.txt"
for required in package/package.json package/dist/index.js package/dist/index.d.ts; do
  grep -qx "$required" "$work/contents.txt" || fail "$required is missing from the tarball"
done
# Everything outside dist/ is a file npm always adds: package.json, README, LICENSE.
unexpected="$(grep -v -E '^package/(dist/.*|package\.json|README.*|LICEN[CS]E.*)$' "$work/contents.txt" || true)"
[[ -z "$unexpected" ]] || fail "files outside dist/ in the tarball: $unexpected"
echo "$(wc -l <"$work/contents.txt") files, all under dist/ besides package.json"

step "npm install into a fresh project"
mkdir -p "$consumer"
cd "$consumer"
printf '{ "name": "aekit-consumer", "version": "0.0.0", "private": true }\n' >package.json
# The compiler and Node's types are the kit's own versions, which the npm cache holds.
typescript="typescript@$(node -p "require('$root/node_modules/typescript/package.json').version")"
node_types="@types/node@$(node -p "require('$root/node_modules/@types/node/package.json').version")"
if ! npm install --no-audit --no-fund --prefer-offline "$tarball" "$typescript" "$node_types" \
  >"$work/install.log" 2>&1; then
  cat "$work/install.log" >&2
  if ! npm ping >/dev/null 2>&1; then
    echo "check-pack: the npm registry cannot be reached, so aekit's dependencies" \
      "cannot be installed" >&2
    exit 75
  fi
  fail "npm install of the tarball failed"
fi
resolved="$(node -p 'require.resolve("aekit")')"
[[ "$resolved" == "$consumer/node_modules/aekit/"* ]] ||
  fail "require.resolve(\"aekit\") gave $resolved, outside the fresh project"
echo "aekit resolves to $resolved"

step "load aekit and run it"
cat >run.js <<'EOF'
const aekit = require("aekit");
(async () => {
  const backend = await aekit.initBackend({ quiet: true });
  const z = aekit.correlate2d([[1, 2], [3, 4]], [[1, 0], [0, -1]], "valid");
  const penalty = aekit.klSparsityPenalty(0.05, aekit.tf.tensor1d([0.05, 0.5]));
  const value = penalty.dataSync()[0];
  if (z[0][0] !== -3 || !(Math.abs(value - 0.4946319) < 1e-5)) {
    throw new Error(`unexpected results: correlate2d ${JSON.stringify(z)}, penalty ${value}`);
  }
  console.log(`backend ${backend}, correlate2d ${JSON.stringify(z)}, penalty ${value}`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
EOF
node run.js || fail "aekit did not load or run in the fresh project"

step "type-check a file that uses aekit's types"
cat >consumer.ts <<'EOF'
import { tf, correlate2d, klSparsityPenalty, makeRng, AekitError, type Rng } from "aekit";

const rng: Rng = makeRng(0);
const image: number[][] = [[rng(), rng()], [rng(), rng()]];
const scores: number[][] = correlate2d(image, [[1]], "valid");
const fromNumbers: number = klSparsityPenalty(0.05, [0.1, 0.5]);
const fromTensor: tf.Scalar = klSparsityPenalty(0.05, tf.tensor1d([0.1, 0.5]));
const error: Error = new AekitError("a message");
console.log(scores, fromNumbers, fromTensor.shape, error.name);
EOF
# A wrong type must be rejected, which shows the types are aekit's, not `any`.
cat >wrong.ts <<'EOF'
import { klSparsityPenalty } from "aekit";

const wrong: string = klSparsityPenalty(0.05, [0.1]);
console.log(wrong);
EOF
# skipLibCheck is off, so aekit's own declaration files are checked too. TensorFlow.js
# 4.22's declarations have errors of their own under this configuration; those are
# reported but do not fail the check.
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "node16",
    "moduleResolution": "node16",
    "strict": true,
    "skipLibCheck": false,
    "noEmit": true,
    "types": ["node"]
  },
  "files": ["consumer.ts"]
}
EOF
npx tsc -p tsconfig.json --pretty false >"$work/tsc.log" 2>&1 || true
own="$(grep -E '^(consumer\.ts|node_modules/aekit/)' "$work/tsc.log" || true)"
if [[ -n "$own" ]]; then
  echo "$own" >&2
  fail "type errors in consumer.ts or in aekit's declarations"
fi
others="$(grep -c -E '^[^ ].*\([0-9]+,[0-9]+\): error' "$work/tsc.log" || true)"
echo "consumer.ts and aekit's declarations: no errors" \
  "($others error(s) in other packages' declarations, not counted)"

sed -e 's/"consumer.ts"/"wrong.ts"/' tsconfig.json >tsconfig.wrong.json
npx tsc -p tsconfig.wrong.json --pretty false >"$work/wrong.log" 2>&1 || true
grep -q -E "^wrong\.ts\(3,7\): error TS2322: Type 'number' is not assignable to type 'string'" \
  "$work/wrong.log" || {
  cat "$work/wrong.log" >&2
  fail "wrong.ts type-checked: aekit's types did not reach the compiler"
}
echo "wrong.ts is rejected with TS2322, as it should be"

step "done: the packed aekit installs, loads and type-checks in a fresh project"
