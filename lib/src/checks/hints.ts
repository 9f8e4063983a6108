import { isClose, matricesClose, type Tolerance } from "./compare";

/** A mistake students make, with the value a function that makes it returns. */
export interface KnownMistake<T> {
  readonly hint: string;
  readonly value: () => T;
}

/**
 * Returns the hint of the first known mistake whose value matches `received`, or
 * `fallback`. A mistake whose value matches the expected one as well is skipped, because
 * it does not tell the two apart.
 */
export function findHint(
  received: number,
  expected: number,
  tolerance: Tolerance,
  mistakes: readonly KnownMistake<number>[],
  fallback?: string,
): string | undefined {
  for (const mistake of mistakes) {
    const value = mistake.value();
    if (isClose(value, expected, tolerance)) continue;
    if (
      Number.isNaN(received) ? Number.isNaN(value) : isClose(received, value, tolerance)
    ) {
      return mistake.hint;
    }
  }
  return fallback;
}

/** `findHint` for matrices. */
export function findMatrixHint(
  received: readonly ArrayLike<number>[],
  expected: readonly ArrayLike<number>[],
  tolerance: Tolerance,
  mistakes: readonly KnownMistake<readonly ArrayLike<number>[]>[],
  fallback?: string,
): string | undefined {
  for (const mistake of mistakes) {
    const value = mistake.value();
    if (matricesClose(value, expected, tolerance)) continue;
    if (matricesClose(received, value, tolerance)) return mistake.hint;
  }
  return fallback;
}
