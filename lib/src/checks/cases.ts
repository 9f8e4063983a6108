import * as tf from "@tensorflow/tfjs";
import { inspect } from "node:util";
import { AekitError } from "../core/errors";

/** Cases described in full in a failure message; later failures are only named. */
const DETAILED_FAILURES = 3;
/** Width of the labels in a failed case's feedback, "expected: " included. */
const LABEL_WIDTH = 10;

/** The outcome of one case of a checker. */
export interface CaseResult {
  /** The behaviour the case tests, such as "rhoHat near 0 and 1". */
  readonly name: string;
  readonly passed: boolean;
  /** The input in words, such as "rho = 0.05, rhoHat = [0.1, 0.5]". */
  readonly input: string;
  /** The lines that explain a failure (input, expected, received, hint); "" when passed. */
  readonly feedback: string;
  /** The error the checked function threw, such as "Error: not implemented". */
  readonly error?: string;
}

/** The outcome of a checker: returned when every case passes, carried by CheckFailedError otherwise. */
export interface CheckResult {
  /** The checker's name, such as "checkKlSparsityPenalty". */
  readonly checker: string;
  /** The checked function's name, or "your function" when it has none. */
  readonly subject: string;
  readonly passed: boolean;
  readonly cases: readonly CaseResult[];
  /** The summary a passing check prints, or the message a failing check throws. */
  readonly report: string;
}

/** Options of every checker. */
export interface CheckOptions {
  /** Receives the summary of a passing check. Default console.log. */
  readonly log?: (text: string) => void;
}

/** The error a checker throws when a case fails, so that the notebook cell fails. */
export class CheckFailedError extends AekitError {
  constructor(readonly result: CheckResult) {
    super(result.report);
    this.name = "CheckFailedError";
  }
}

/** Why a case failed: each field is shown on its own line of the feedback. */
export interface Failure {
  readonly expected: string;
  readonly received: string;
  /** A measured detail, such as the largest difference and where it is. */
  readonly detail?: string;
  /** The change to make, when the received value matches a known mistake. */
  readonly hint?: string;
}

/** Thrown inside a case when the result cannot be compared, for example a wrong type. */
export class ResultMismatch extends Error {
  constructor(readonly failure: Failure) {
    super(failure.received);
    this.name = "ResultMismatch";
  }
}

/** Wraps an error thrown by the checked function, to report it apart from mismatches. */
export class StudentError extends Error {
  constructor(readonly thrown: unknown) {
    super(describeThrown(thrown));
    this.name = "StudentError";
  }
}

/** One case of a checker: `run` returns undefined when the case passes. */
export interface CheckCase {
  readonly name: string;
  readonly input: string;
  readonly run: () => Failure | undefined;
}

/** Formats a thrown value as Node prints an Error's first line, such as "Error: not implemented". */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message.split("\n")[0]}`;
  return `a thrown ${typeof thrown}: ${String(thrown)}`;
}

/** Calls the checked function, wrapping what it throws in a StudentError. */
export function callStudent<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...args: A
): R {
  try {
    return fn(...args);
  } catch (thrown) {
    throw new StudentError(thrown);
  }
}

/** Indents the lines after the first, so that a multi-line value lines up after its label. */
function labelled(label: string, text: string): string {
  const indent = " ".repeat(2 + LABEL_WIDTH);
  const head = `  ${`${label}:`.padEnd(LABEL_WIDTH)}`;
  return head + text.split("\n").join(`\n${indent}`);
}

function describeFailure(input: string, failure: Failure): string {
  const lines = [
    labelled("input", input),
    labelled("expected", failure.expected),
    labelled("received", failure.received),
  ];
  if (failure.detail) lines.push(labelled("detail", failure.detail));
  if (failure.hint) lines.push(labelled("hint", failure.hint));
  return lines.join("\n");
}

/**
 * Runs one case inside tf.tidy, so that tensors the case or the checked function leave
 * behind are disposed. Errors become a failed case rather than ending the check.
 */
function runCase(check: CheckCase): CaseResult {
  const result = (feedback: string, error?: string): CaseResult => ({
    name: check.name,
    passed: feedback === "",
    input: check.input,
    feedback,
    ...(error === undefined ? {} : { error }),
  });
  let failure: Failure | undefined;
  try {
    tf.tidy(() => {
      failure = check.run();
    });
  } catch (error) {
    if (error instanceof StudentError) {
      const feedback = [labelled("input", check.input), labelled("threw", error.message)];
      return result(feedback.join("\n"), error.message);
    }
    if (error instanceof ResultMismatch) {
      failure = error.failure;
    } else {
      failure = {
        expected: "a result the checker can read",
        received: `an error while checking it: ${describeThrown(error)}`,
      };
    }
  }
  return result(failure === undefined ? "" : describeFailure(check.input, failure));
}

function failureReport(
  checker: string,
  subject: string,
  results: readonly CaseResult[],
  tolerance: string,
): string {
  const failed = results.filter((r) => !r.passed);
  const errors = new Set(failed.map((r) => r.error));
  const [onlyError] = errors;
  if (failed.length === results.length && errors.size === 1 && onlyError !== undefined) {
    const next = /not implemented/i.test(onlyError)
      ? "Replace the throw statement with your implementation"
      : "Fix the error";
    return [
      `${checker}: ${subject} failed all ${results.length} cases, ` +
        `because each call threw "${onlyError}".`,
      `${next}, then run this cell again.`,
      `Cases: ${results.map((r) => r.name).join("; ")}.`,
    ].join("\n");
  }

  const lines = [
    `${checker}: ${subject} failed ${failed.length} of ${results.length} cases. ` +
      "Fix the first failure, then run this cell again.",
    `Tolerance: ${tolerance}.`,
  ];
  for (const r of failed.slice(0, DETAILED_FAILURES)) {
    lines.push("", `FAIL ${r.name}`, r.feedback);
  }
  if (failed.length > DETAILED_FAILURES) {
    const rest = failed.slice(DETAILED_FAILURES).map((r) => r.name);
    lines.push("", `Also failed: ${rest.join("; ")}.`);
  }
  const passed = results.filter((r) => r.passed).map((r) => r.name);
  if (passed.length > 0) lines.push("", `Passed: ${passed.join("; ")}.`);
  return lines.join("\n");
}

/**
 * Runs the cases of a checker. When all pass, logs a one-line summary and returns the
 * result. Otherwise throws a CheckFailedError whose message lists each failed case with
 * its input, the expected and the received values, so that the notebook cell fails.
 *
 * @param tolerance - the comparison rules in words, such as "values within
 *   |received - expected| <= 1e-6", printed in the summary and the failure message
 */
export function runCheck(
  checker: string,
  fn: (...args: never[]) => unknown,
  tolerance: string,
  cases: readonly CheckCase[],
  options: CheckOptions = {},
): CheckResult {
  const subject = fn.name || "your function";
  const results = cases.map(runCase);
  const passed = results.every((r) => r.passed);
  const report = passed
    ? `${checker}: ${subject} passed all ${results.length} cases (${tolerance}).`
    : failureReport(checker, subject, results, tolerance);
  const result: CheckResult = { checker, subject, passed, cases: results, report };
  // A notebook cell that ends with the check shows this line, not every case
  const count = results.filter((r) => r.passed).length;
  Object.defineProperty(result, inspect.custom, {
    value: () => `CheckResult { ${subject}: ${count} of ${results.length} cases passed }`,
  });
  if (!passed) throw new CheckFailedError(result);
  (options.log ?? console.log)(report);
  return result;
}
