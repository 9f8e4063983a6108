/**
 * Writes the student version of the exercise notebooks.
 *
 * The sources in notebooks/exercises are the instructor version: each solution sits
 * between a line `// BEGIN SOLUTION` and a line `// END SOLUTION` inside a function body.
 * The student version replaces each such region, markers included, by a statement that
 * throws "not implemented", so the function keeps its typed signature and the notebook
 * still type-checks, and its check cell fails with the checker's feedback. Outputs and
 * execution counts are dropped. The sources are only read.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { foldersOverlap, isInside, lstatOrUndefined, staysInside } from "./paths";

const repoRoot = path.resolve(__dirname, "..");
const notebooksRoot = path.join(repoRoot, "notebooks");

const USAGE = `Usage: npm run student-notebooks -- [options]

Writes the student version of every notebook below --dir to --out, keeping the
folder layout: each region between the lines "// BEGIN SOLUTION" and
"// END SOLUTION" in a code cell becomes a statement that throws
"not implemented". A notebook in --out is replaced, or removed when its source
is gone, only if an earlier run wrote it and it is unchanged since, so answers
typed into a student notebook are never lost.
Exits with status 1 when a notebook has no solution region or unbalanced markers, and
with 2 on invalid options.

Options:
  --dir DIR   folder of the instructor notebooks (default: notebooks/exercises)
  --out DIR   folder for the student notebooks (default: build/student/exercises);
              must lie outside notebooks/
  -h, --help  print this help`;

export const BEGIN_MARKER = "// BEGIN SOLUTION";
export const END_MARKER = "// END SOLUTION";
const BEGIN = /^(\s*)\/\/ BEGIN SOLUTION\s*$/;
const END = /^\s*\/\/ END SOLUTION\s*$/;

/** Returns the lines that replace a solution region, indented like its BEGIN marker. */
export function stubLines(indent: string): string[] {
  return [
    `${indent}// Your code here: replace the throw statement, then run the check cell.`,
    `${indent}throw new Error("not implemented");`,
  ];
}

/** A notebook cell as nbformat 4 stores it; other fields are kept as they are. */
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
  [field: string]: unknown;
}

interface Notebook {
  cells: Cell[];
  [field: string]: unknown;
}

/** A notebook or marker problem, named by notebook, cell and line for the author to fix. */
export class MarkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MarkerError";
  }
}

function sourceText(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Splits text into the list of lines with their newlines, as nbformat stores a source. */
function toSourceLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line !== "");
}

/**
 * Replaces the solution regions of one cell's source. Returns the new source and the
 * number of regions, or throws a MarkerError for unbalanced or nested markers.
 *
 * @param where - the notebook and cell, such as "ex1.ipynb cell 4", for messages
 */
export function stubSolutions(
  source: string,
  where: string,
): { text: string; regions: number } {
  const out: string[] = [];
  let openedAt: number | null = null;
  let regions = 0;
  source.split("\n").forEach((line, index) => {
    const begin = BEGIN.exec(line);
    if (begin) {
      if (openedAt !== null) {
        throw new MarkerError(
          `${where} line ${index + 1}: "${BEGIN_MARKER}" inside the region opened ` +
            `at line ${openedAt + 1}; close it with "${END_MARKER}" first`,
        );
      }
      openedAt = index;
      out.push(...stubLines(begin[1]));
      return;
    }
    if (END.test(line)) {
      if (openedAt === null) {
        throw new MarkerError(
          `${where} line ${index + 1}: "${END_MARKER}" without a "${BEGIN_MARKER}" before it`,
        );
      }
      openedAt = null;
      regions++;
      return;
    }
    if (openedAt === null) out.push(line);
  });
  if (openedAt !== null) {
    throw new MarkerError(
      `${where} line ${(openedAt as number) + 1}: "${BEGIN_MARKER}" has no "${END_MARKER}" ` +
        "in the same cell",
    );
  }
  return { text: out.join("\n"), regions };
}

/**
 * Returns the student version of a notebook and the number of solution regions it
 * replaced. Throws a MarkerError when a marker sits in a markdown cell, when markers are
 * unbalanced, or when the notebook has no solution region.
 */
export function makeStudentNotebook(
  notebook: Notebook,
  name: string,
): { notebook: Notebook; regions: number } {
  let regions = 0;
  const cells = notebook.cells.map((cell, index) => {
    const where = `${name} cell ${index + 1}`;
    const text = sourceText(cell);
    if (cell.cell_type !== "code") {
      if (text.split("\n").some((line) => BEGIN.test(line) || END.test(line))) {
        throw new MarkerError(`${where}: solution markers belong in code cells only`);
      }
      return cell;
    }
    const stubbed = stubSolutions(text, where);
    regions += stubbed.regions;
    return {
      ...cell,
      source: toSourceLines(stubbed.text),
      outputs: [],
      execution_count: null,
    };
  });
  if (regions === 0) {
    throw new MarkerError(
      `${name}: no solution region found; mark each solution with the lines ` +
        `"${BEGIN_MARKER}" and "${END_MARKER}" inside a function body`,
    );
  }
  return { notebook: { ...notebook, cells }, regions };
}

/** Lists the .ipynb files below `dir` as sorted relative paths, skipping dot folders. */
function listNotebooks(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith(".")) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".ipynb")) {
        found.push(path.relative(dir, full));
      }
    }
  };
  walk(dir);
  return found.sort();
}

/** The file in --out that lists the notebooks make-student wrote there. */
export const MANIFEST_NAME = ".aekit-student.json";

/** Returns the SHA-256 of a file's bytes, as hex. */
function fileHash(file: string): string {
  return contentHash(fs.readFileSync(file));
}

function contentHash(content: string | Buffer): string {
  return crypto.createHash("sha256").update(content).digest("hex");
}

/**
 * Reads the notebooks that an earlier run wrote to `out`, with the hash of each as written;
 * none when the manifest is absent.
 */
function readManifest(out: string): Map<string, string> {
  const file = path.join(out, MANIFEST_NAME);
  const written = new Map<string, string>();
  const stats = lstatOrUndefined(file);
  if (!stats) return written;
  if (!stats.isFile()) {
    throw new MarkerError(
      `${file} is not a regular file; remove it, or choose an empty --out folder`,
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    throw new MarkerError(
      `${file} is not valid JSON; delete it, or choose an empty --out folder`,
    );
  }
  const notebooks =
    manifest !== null && typeof manifest === "object"
      ? (manifest as { notebooks?: unknown }).notebooks
      : undefined;
  if (notebooks !== null && typeof notebooks === "object") {
    for (const [name, hash] of Object.entries(notebooks)) {
      if (typeof hash === "string") written.set(name, hash);
    }
  }
  return written;
}

/**
 * Tells whether `name` in `out` is a regular file, reached without a symbolic link, whose
 * hash is the one make-student recorded when it wrote it.
 */
function isOwnUnchanged(
  out: string,
  name: string,
  previous: Map<string, string>,
): boolean {
  const file = path.join(out, name);
  const stats = lstatOrUndefined(file);
  return (
    stats !== undefined &&
    stats.isFile() &&
    staysInside(file, out) &&
    previous.get(name) === fileHash(file)
  );
}

/**
 * Writes the student versions of the notebooks below `dir` into `out`, and returns their
 * paths. `log` receives one line per notebook. A notebook already in `out` is replaced only
 * when an earlier run wrote it and it is unchanged since, and the same rule applies to
 * removing the notebooks that no source produces any more. So a student's work in `out`,
 * including solutions typed into a generated notebook, is never overwritten or deleted.
 */
export function writeStudentNotebooks(
  dir: string,
  out: string,
  log: (line: string) => void = console.log,
): string[] {
  if (foldersOverlap(out, notebooksRoot) || foldersOverlap(out, dir)) {
    throw new MarkerError(
      `--out ${out} overlaps the sources (one folder contains the other, possibly ` +
        "through a symbolic link); choose a folder outside notebooks/ and --dir, such " +
        "as build/student/exercises",
    );
  }
  const names = listNotebooks(dir);
  if (names.length === 0) throw new MarkerError(`no notebooks found in ${dir}`);
  // build every notebook first, so that a marker error writes nothing
  const students = names.map((name) => {
    const source = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Notebook;
    const { notebook, regions } = makeStudentNotebook(source, name);
    const content = JSON.stringify(notebook, null, 1) + "\n";
    return { name, regions, content, hash: contentHash(content) };
  });
  const newHashes = new Map(students.map(({ name, hash }) => [name, hash]));

  const outStats = fs.existsSync(out) ? fs.statSync(out) : undefined;
  if (outStats && !outStats.isDirectory()) {
    throw new MarkerError(`--out ${out} is a file; choose a folder`);
  }
  const previous = outStats ? readManifest(out) : new Map<string, string>();
  const escaping = names.filter((name) => !staysInside(path.join(out, name), out));
  if (escaping.length > 0) {
    throw new MarkerError(
      `--out ${out}: ${escaping.join(", ")} would be written through a symbolic link ` +
        "that leads outside --out; remove the link or choose another --out",
    );
  }
  // A file that already holds exactly what this run writes loses nothing when rewritten,
  // also where no manifest lists it (a run of an older version, or an interrupted one)
  const blocking = names.filter(
    (name) =>
      lstatOrUndefined(path.join(out, name)) !== undefined &&
      !isOwnUnchanged(out, name, previous) &&
      !isOwnUnchanged(out, name, newHashes),
  );
  if (blocking.length > 0) {
    throw new MarkerError(
      `--out ${out} contains ${blocking.join(", ")}, which make-student did not write ` +
        "or which changed since it wrote them; move them away or choose another --out, " +
        "so that no work is lost",
    );
  }

  const written: string[] = [];
  const hashes: Record<string, string> = {};
  for (const { name, content, hash } of students) {
    const target = path.join(out, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    hashes[name] = hash;
    written.push(target);
  }
  for (const stale of [...previous.keys()].filter((name) => !names.includes(name))) {
    const file = path.join(out, stale);
    if (!isInside(path.resolve(file), out) || !lstatOrUndefined(file)) continue;
    if (isOwnUnchanged(out, stale, previous)) fs.rmSync(file);
    else log(`${stale}: kept, because make-student did not write it as it is now`);
  }
  fs.writeFileSync(
    path.join(out, MANIFEST_NAME),
    JSON.stringify({ notebooks: hashes }, null, 1) + "\n",
  );
  for (const { name, regions } of students) {
    log(`${name}: ${regions} solution region(s) replaced`);
  }
  return written;
}

function main(): number {
  let values;
  try {
    values = parseArgs({
      options: {
        dir: { type: "string", default: path.join(notebooksRoot, "exercises") },
        out: {
          type: "string",
          default: path.join(repoRoot, "build", "student", "exercises"),
        },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = path.resolve(values.dir);
  const out = path.resolve(values.out);
  try {
    const written = writeStudentNotebooks(dir, out);
    console.log(
      `Wrote ${written.length} student notebook(s) to ${path.relative(repoRoot, out) || "."}.`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof MarkerError)) throw error;
    console.error(`make-student: ${error.message}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main();
}
