/**
 * Type-checks the code cells of notebooks before they run, the way the tslab
 * kernel compiles them, with one TypeScript program for all notebooks.
 *
 * tslab 1.0.22 compiles each cell as a module that can use the declarations of the
 * cells before it, allows top-level await, and lets a later cell declare a name
 * again. This check turns each code cell into an in-memory module beside its
 * notebook. The module imports the names that earlier cells declared, each from
 * the cell that declared it last, and exports its own names, so the compiler
 * sees the scopes that tslab builds. `import ... from "aekit"` resolves to
 * lib/dist/index.d.ts through node_modules/aekit, so the check sees the library
 * as last built by `npm run build`.
 *
 * Usage: npm run typecheck:notebooks -- [--dir DIR] [--only PATTERN]...
 */
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import ts from "typescript";

import {
  cellSource,
  cellTags,
  findNotebooks,
  RAISES_EXCEPTION_TAG,
  readNotebook,
  repoRoot,
  SKIP_EXECUTION_TAG,
  type NotebookDocument,
} from "./jupyter";

/**
 * The compiler options of tslab 1.0.22 on Node 14 or later (createConverter in
 * tslab/dist/converter.js), minus those that only shape its output. Like tslab,
 * the check is not strict and has no DOM types.
 */
const TSLAB_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  target: ts.ScriptTarget.ES2020,
  lib: ["lib.es2020.d.ts"],
  esModuleInterop: true,
  resolveJsonModule: true,
  experimentalDecorators: true,
  jsx: ts.JsxEmit.React,
  allowJs: true,
  checkJs: true,
  skipLibCheck: true,
  typeRoots: [path.join(repoRoot, "node_modules", "@types")],
  noEmit: true,
};

/** TS2632, "Cannot assign to 'x' because it is an import." */
const ASSIGN_TO_IMPORT = 2632;
/** TS2307, "Cannot find module 'x' or its corresponding type declarations." */
const MODULE_NOT_FOUND = 2307;
/** The code given to the check that tslab adds to TypeScript's own. */
export const SHORTHAND_CODE = "tslab-shorthand";

const LIBRARY_TYPES = path.join(repoRoot, "lib", "dist", "index.d.ts");

/** A notebook to check, with its cells as they will run. */
export interface NotebookToCheck {
  /** The name shown in messages, such as the path below the notebook folder. */
  name: string;
  /** The notebook's path, from which relative imports and packages resolve. */
  file: string;
  document: NotebookDocument;
}

export interface CellDiagnostic {
  /** The notebook's name, or the path of another file that has the problem. */
  notebook: string;
  /** Position of the cell in the notebook, counting every cell from 1, or null outside cells. */
  cell: number | null;
  /** Line within the cell, from 1, or null when the problem has no position. */
  line: number | null;
  column: number | null;
  /** "TS" and TypeScript's number, or SHORTHAND_CODE. */
  code: string;
  message: string;
  /** The source line the diagnostic points at. */
  sourceLine: string | null;
  /** True in a cell tagged raises-exception, where an error is expected and does not fail the check. */
  allowed: boolean;
}

export interface TypecheckResult {
  diagnostics: CellDiagnostic[];
  /** Diagnostics that fail the check: all but those in cells tagged raises-exception. */
  errorCount: number;
  notebookCount: number;
  cellCount: number;
  seconds: number;
}

/** The kind of a declaration, such as "a constant" or "a function", or null for a `let` or `var`. */
type DeclarationKind = string | null;

/** A name that an earlier cell declared, as a later cell imports it. */
interface EarlierName {
  cell: CellModule;
  kind: DeclarationKind;
}

/** One code cell as a module of the program. */
interface CellModule {
  notebook: string;
  cell: number;
  fileName: string;
  /** Length of the generated first line, which contains the imports. */
  headerLength: number;
  /** The cell's source, which starts on the module's second line. */
  source: string;
  allowed: boolean;
  imported: Map<string, EarlierName>;
}

/** Maps each name that a cell declares at top level to what it declares it as. */
function declaredNames(file: ts.SourceFile): Map<string, DeclarationKind> {
  const names = new Map<string, DeclarationKind>();
  const addBinding = (name: ts.BindingName, kind: DeclarationKind): void => {
    if (ts.isIdentifier(name)) {
      names.set(name.text, kind);
      return;
    }
    for (const element of name.elements) {
      if (!ts.isOmittedExpression(element)) {
        addBinding(element.name, kind);
      }
    }
  };
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList;
      const kind = list.flags & ts.NodeFlags.Const ? "a constant" : null;
      for (const declaration of list.declarations) {
        addBinding(declaration.name, kind);
      }
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      names.set(statement.name.text, "a function");
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      names.set(statement.name.text, "a class");
    } else if (ts.isEnumDeclaration(statement)) {
      names.set(statement.name.text, "an enum");
    } else if (
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement)
    ) {
      names.set(statement.name.text, "a type");
    } else if (ts.isImportEqualsDeclaration(statement)) {
      names.set(statement.name.text, "an import");
    } else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) {
      // `declare global { ... }` also has an identifier name but declares no binding.
      if (!(statement.flags & ts.NodeFlags.GlobalAugmentation)) {
        names.set(statement.name.text, "a namespace");
      }
    } else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) {
        names.set(clause.name.text, "an import");
      }
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) {
        names.set(bindings.name.text, "an import");
      } else if (bindings) {
        for (const element of bindings.elements) {
          names.set(element.name.text, "an import");
        }
      }
    }
  }
  return names;
}

/** Builds the module text of each code cell that runs, in notebook order. */
function cellModules(
  notebook: NotebookToCheck,
  texts: Map<string, string>,
): CellModule[] {
  const modules: CellModule[] = [];
  // NOTE: a name is imported from the last cell that declared it in any sense,
  // so a type and a value of the same name from different cells lose the older one.
  const visible = new Map<string, EarlierName>();
  notebook.document.cells.forEach((cell, index) => {
    const tags = cellTags(cell);
    const source = cellSource(cell);
    if (
      cell.cell_type !== "code" ||
      tags.includes(SKIP_EXECUTION_TAG) ||
      !source.trim()
    ) {
      return;
    }
    const fileName = `${notebook.file}.cell-${index + 1}.ts`;
    const parsed = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2020, true);
    const declared = declaredNames(parsed);

    const imported = new Map<string, EarlierName>();
    const byCell = new Map<CellModule, string[]>();
    for (const [name, earlier] of visible) {
      if (!declared.has(name)) {
        imported.set(name, earlier);
        byCell.set(earlier.cell, [...(byCell.get(earlier.cell) ?? []), name]);
      }
    }
    const imports = [...byCell].map(([earlier, names]) => {
      const specifier = "./" + path.basename(earlier.fileName, ".ts");
      return `import { ${names.join(", ")} } from ${JSON.stringify(specifier)};`;
    });
    // `export {}` makes a cell without imports a module, where await is allowed at top level.
    const header = imports.join(" ") || "export {};";
    const exports =
      declared.size > 0 ? `export { ${[...declared.keys()].join(", ")} };` : "";
    texts.set(fileName, `${header}\n${source}\n${exports}\n`);

    const module: CellModule = {
      notebook: notebook.name,
      cell: index + 1,
      fileName,
      headerLength: header.length + 1,
      source,
      allowed: tags.includes(RAISES_EXCEPTION_TAG),
      imported,
    };
    modules.push(module);
    for (const [name, kind] of declared) {
      visible.set(name, { cell: module, kind });
    }
  });
  return modules;
}

function createHost(texts: Map<string, string>): ts.CompilerHost {
  const host = ts.createCompilerHost(TSLAB_OPTIONS, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = texts.get(fileName);
    return text === undefined
      ? getSourceFile.call(host, fileName, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  host.fileExists = (fileName) => texts.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => texts.get(fileName) ?? readFile.call(host, fileName);
  return host;
}

/** Returns the diagnostic at `start` in a cell, with its line counted within the cell. */
function cellDiagnostic(
  module: CellModule,
  file: ts.SourceFile,
  start: number,
  code: string,
  message: string,
): CellDiagnostic {
  const position = file.getLineAndCharacterOfPosition(start);
  const lines = module.source.split("\n");
  // Line 0 of the module is the generated header, and the line after the cell contains the exports.
  const line = Math.min(Math.max(position.line, 1), lines.length);
  return {
    notebook: module.notebook,
    cell: module.cell,
    line,
    column: position.line === line ? position.character + 1 : null,
    code,
    message,
    sourceLine: lines[line - 1].trim(),
    allowed: module.allowed,
  };
}

/**
 * Converts one TypeScript diagnostic to a cell diagnostic, or returns null for
 * one that tslab does not raise.
 */
function convertDiagnostic(
  diagnostic: ts.Diagnostic,
  modules: Map<string, CellModule>,
): CellDiagnostic | null {
  let message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  const file = diagnostic.file;
  const module = file ? modules.get(file.fileName) : undefined;
  if (!file || !module || diagnostic.start === undefined) {
    const where = file ? path.relative(repoRoot, file.fileName) : "compiler options";
    const position =
      file && diagnostic.start !== undefined
        ? file.getLineAndCharacterOfPosition(diagnostic.start)
        : null;
    return {
      notebook: where,
      cell: null,
      line: position ? position.line + 1 : null,
      column: position ? position.character + 1 : null,
      code: `TS${diagnostic.code}`,
      message,
      sourceLine: null,
      allowed: false,
    };
  }
  const text = file.text.slice(
    diagnostic.start,
    diagnostic.start + (diagnostic.length ?? 0),
  );
  if (diagnostic.code === ASSIGN_TO_IMPORT) {
    const earlier = module.imported.get(text);
    // tslab lets a cell assign to a `let` of an earlier cell, which this check imports.
    if (earlier && earlier.kind === null) {
      return null;
    }
    if (earlier) {
      message =
        `Cannot assign to '${text}' because it is ${earlier.kind} ` +
        `declared in cell ${earlier.cell.cell}.`;
    }
  }
  if (diagnostic.code === MODULE_NOT_FOUND && /'aekit'/.test(message)) {
    if (!fs.existsSync(LIBRARY_TYPES)) {
      message += ` ${path.relative(repoRoot, LIBRARY_TYPES)} is missing: run npm run build.`;
    }
  }
  return cellDiagnostic(module, file, diagnostic.start, `TS${diagnostic.code}`, message);
}

/**
 * Finds shorthand properties such as `{ seed }` that name a variable of an
 * earlier cell. tslab 1.0.22 compiles them to a reference that fails at run
 * time with "ReferenceError: seed is not defined".
 */
function shorthandDiagnostics(
  module: CellModule,
  file: ts.SourceFile,
  checker: ts.TypeChecker,
): CellDiagnostic[] {
  const found: CellDiagnostic[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) {
      const name = node.name.text;
      const symbol = checker.getShorthandAssignmentValueSymbol(node);
      const declaration = symbol?.declarations?.[0];
      const fromEarlierCell =
        declaration !== undefined &&
        declaration.getSourceFile() === file &&
        declaration.getStart(file) < module.headerLength;
      if (fromEarlierCell) {
        const earlier = module.imported.get(name);
        const message =
          `Shorthand property '${name}' names a variable of cell ${earlier?.cell.cell}, ` +
          `which tslab 1.0.22 fails to resolve at run time. Write '${name}: ${name}'.`;
        found.push(
          cellDiagnostic(module, file, node.getStart(file), SHORTHAND_CODE, message),
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Type-checks the code cells of `notebooks` as one program and returns what it found. */
export function typecheckNotebooks(notebooks: NotebookToCheck[]): TypecheckResult {
  const started = performance.now();
  const texts = new Map<string, string>();
  const modules = new Map<string, CellModule>();
  for (const notebook of notebooks) {
    for (const module of cellModules(notebook, texts)) {
      modules.set(module.fileName, module);
    }
  }

  const program = ts.createProgram({
    rootNames: [...texts.keys()],
    options: TSLAB_OPTIONS,
    host: createHost(texts),
  });
  const diagnostics: CellDiagnostic[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.category !== ts.DiagnosticCategory.Error) {
      continue;
    }
    const converted = convertDiagnostic(diagnostic, modules);
    if (converted) {
      diagnostics.push(converted);
    }
  }
  const checker = program.getTypeChecker();
  for (const module of modules.values()) {
    const file = program.getSourceFile(module.fileName);
    if (file) {
      diagnostics.push(...shorthandDiagnostics(module, file, checker));
    }
  }

  const order = new Map(notebooks.map((notebook, index) => [notebook.name, index]));
  diagnostics.sort(
    (a, b) =>
      (order.get(a.notebook) ?? -1) - (order.get(b.notebook) ?? -1) ||
      (a.cell ?? 0) - (b.cell ?? 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
  return {
    diagnostics,
    errorCount: diagnostics.filter((diagnostic) => !diagnostic.allowed).length,
    notebookCount: notebooks.length,
    cellCount: modules.size,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Formats a diagnostic as "NOTEBOOK, cell N, line L: error CODE: message" and its source line. */
export function formatDiagnostic(diagnostic: CellDiagnostic): string {
  const where = [diagnostic.notebook];
  if (diagnostic.cell !== null) {
    where.push(`cell ${diagnostic.cell}`);
  }
  if (diagnostic.line !== null) {
    where.push(`line ${diagnostic.line}`);
  }
  const kind = diagnostic.allowed ? "allowed by raises-exception" : "error";
  const lines = [
    `${where.join(", ")}: ${kind} ${diagnostic.code}: ${diagnostic.message}`,
  ];
  if (diagnostic.sourceLine) {
    lines.push(`    ${diagnostic.sourceLine}`);
  }
  return lines.join("\n");
}

/** Formats the one-line summary of a type-check, with the time it took. */
export function formatSummary(result: TypecheckResult): string {
  const checked =
    `Type-checked ${result.cellCount} code cell(s) of ${result.notebookCount} ` +
    `notebook(s) in ${result.seconds.toFixed(1)} s`;
  const allowed = result.diagnostics.length - result.errorCount;
  const allowedNote = allowed > 0 ? `, ${allowed} allowed by raises-exception` : "";
  return result.errorCount === 0
    ? `${checked}: no errors${allowedNote}.`
    : `${checked}: ${result.errorCount} error(s)${allowedNote}.`;
}

const USAGE = `Usage: npm run typecheck:notebooks -- [options]

Type-checks the code cells of every notebook below --dir as the tslab kernel
compiles them, with the types of lib/dist (run npm run build first). Exits with
status 1 on a type error, with 2 on invalid options.

Options:
  --dir DIR          folder searched for *.ipynb (default: notebooks)
  --only PATTERN     check only notebooks whose path below --dir contains
                     PATTERN; repeat it to check several
  -h, --help         print this help`;

function main(argv: string[]): number {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        dir: { type: "string", default: path.join(repoRoot, "notebooks") },
        only: { type: "string", multiple: true },
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
  if (!fs.existsSync(dir)) {
    console.error(`Notebook folder not found: ${dir}`);
    return 1;
  }
  const patterns = values.only ?? [];
  const names = findNotebooks(dir).filter(
    (name) => patterns.length === 0 || patterns.some((pattern) => name.includes(pattern)),
  );
  if (names.length === 0) {
    console.error(`No notebooks to check in ${dir}.`);
    return 1;
  }
  const notebooks = names.map((name) => {
    const file = path.join(dir, name);
    return { name, file, document: readNotebook(file) };
  });
  const result = typecheckNotebooks(notebooks);
  for (const diagnostic of result.diagnostics) {
    console.log(formatDiagnostic(diagnostic));
  }
  console.log(formatSummary(result));
  return result.errorCount === 0 ? 0 : 1;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
