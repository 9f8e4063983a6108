/**
 * Path checks shared by the scripts that write next to the source notebooks, so that no
 * spelling of a folder (a symbolic link, `..`, a parent or child folder) lets them overwrite
 * or delete a source.
 */
import fs from "node:fs";
import path from "node:path";

/**
 * Returns the absolute path of `target` with symbolic links resolved. Where `target` does
 * not exist yet, resolves its nearest existing ancestor and appends the rest.
 */
export function realPath(target: string): string {
  const absolute = path.resolve(target);
  const missing: string[] = [];
  let existing = absolute;
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    missing.unshift(path.basename(existing));
    existing = parent;
  }
  return path.join(fs.realpathSync(existing), ...missing);
}

/** Tells whether `child` is `parent` or lies below it; both are compared as given. */
export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** Tells whether one of the two folders contains the other, after resolving links. */
export function foldersOverlap(first: string, second: string): boolean {
  const a = realPath(first);
  const b = realPath(second);
  return isInside(a, b) || isInside(b, a);
}
