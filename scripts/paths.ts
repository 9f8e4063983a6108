/**
 * Path checks shared by the scripts that write next to the source notebooks, so that no
 * spelling of a folder (a symbolic link, `..`, a parent or child folder) lets them overwrite
 * or delete a source.
 */
import fs from "node:fs";
import path from "node:path";

/** Follows at most this many symbolic links, as Linux does (its ELOOP limit). */
const MAX_LINKS = 40;

/**
 * Returns the absolute path of `target` with symbolic links resolved. Where `target` does
 * not exist yet, resolves its nearest existing ancestor and appends the rest. A dangling
 * link resolves to where it points, because writing through it would create that path.
 */
export function realPath(target: string, links = 0): string {
  if (links > MAX_LINKS) {
    throw new Error(`too many symbolic links in ${target}`);
  }
  const missing: string[] = [];
  let existing = path.resolve(target);
  for (;;) {
    const stats = lstatOrUndefined(existing);
    if (stats?.isSymbolicLink() && !fs.existsSync(existing)) {
      const pointed = path.resolve(path.dirname(existing), fs.readlinkSync(existing));
      return realPath(path.join(pointed, ...missing), links + 1);
    }
    if (stats) break;
    const parent = path.dirname(existing);
    if (parent === existing) break;
    missing.unshift(path.basename(existing));
    existing = parent;
  }
  return path.join(fs.realpathSync(existing), ...missing);
}

/** Returns the file's own status, not its link target's, or undefined when it is missing. */
export function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
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

/**
 * Tells whether writing `file` stays inside `folder`, that is, whether no symbolic link
 * on the way (a linked subfolder or the file itself) leads elsewhere.
 */
export function staysInside(file: string, folder: string): boolean {
  return isInside(realPath(file), realPath(folder));
}
