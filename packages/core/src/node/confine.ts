/**
 * Paths named inside files we read (a plan's model source, a manifest's file names) are data, not
 * commands: they resolve inside the folder of the file that names them, or not at all.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';

const outside = (what: string, name: string, dir: string, todo: string) =>
  new TinypipeError('PATH_OUTSIDE', `${what} ${JSON.stringify(name)} leaves ${dir}: ${todo}`, {
    details: { name, dir },
  });

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

/**
 * The real path of `name` inside `dir`: refuses absolute names, any `..` component, and names whose
 * real path (symlinks followed) is not inside the real `dir`. A missing file is not refused here (the
 * caller's read reports it).
 *
 * @throws TinypipeError PATH_OUTSIDE (the message ends with `todo`)
 */
export async function resolveInside(dir: string, name: string, what: string, todo: string): Promise<string> {
  const parts = name.split(/[\\/]+/);
  if (
    name === '' ||
    isAbsolute(name) ||
    /^[A-Za-z]:/.test(name) ||
    parts.includes('..') ||
    name.includes('\0')
  )
    throw outside(what, name, dir, todo);
  const root = await realpath(dir);
  const path = join(root, name);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return path;
  }
  if (!inside(root, real)) throw outside(what, name, dir, todo);
  return real;
}
