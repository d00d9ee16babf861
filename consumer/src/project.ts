/**
 * A user's project outside the repository: every publishable @tinypipe package packed with `npm pack`,
 * installed from those tarballs with `npm ci --offline` — the third-party dependencies come from npm's
 * cache (the repository's own `npm ci` filled it), pinned to the repository's lockfile versions.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  bin?: Record<string, string>;
  private?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The workspace packages that are published (not private), by name → folder. */
export function publishedPackages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of readdirSync(join(repoRoot, 'packages'))) {
    const folder = join(repoRoot, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest;
    if (!pkg.private) out.set(pkg.name, `packages/${dir}`);
  }
  return out;
}

/**
 * The lockfile entries of the third-party packages our packages need, found as npm resolves them (the
 * nearest `node_modules` up from the package that depends on them), with their paths in the new project.
 */
function thirdPartyLock(packages: Map<string, string>): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const out: Record<string, LockEntry> = {};
  const ourPath = new Map([...packages].map(([name, folder]) => [folder, `node_modules/${name}`]));
  const visit = (from: string, name: string, optional: boolean): void => {
    if (packages.has(name)) return;
    let base = from;
    for (;;) {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      const entry = lock.packages[candidate];
      if (entry) {
        const target = candidate.replace(/^packages\/[^/]+/, (f) => ourPath.get(f) ?? f);
        if (out[target]) return;
        out[target] = entry;
        for (const d of Object.keys(entry.dependencies ?? {})) visit(candidate, d, false);
        for (const d of Object.keys(entry.optionalDependencies ?? {})) visit(candidate, d, true);
        return;
      }
      if (!base) break;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
    if (!optional)
      throw new Error(`${name} (needed by ${from || 'the project'}) is not in package-lock.json`);
  };
  for (const folder of packages.values()) {
    const pkg = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as Manifest;
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(folder, d, false);
  }
  return out;
}

export interface ConsumerProject {
  dir: string;
  /** name → the tarball's file names, as `npm pack` listed them. */
  files: Map<string, string[]>;
  run(cmd: string, args: readonly string[], env?: Record<string, string>): string;
  remove(): void;
}

/**
 * Packs every published package (after the build) and installs the tarballs into a new project; with
 * `only`, the project depends on those packages alone (and whatever @tinypipe packages they need).
 */
export function createConsumerProject(only?: readonly string[]): ConsumerProject {
  const root = mkdtempSync(join(tmpdir(), 'tinypipe-consumer-'));
  try {
    return setUp(root, only);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** `names` and the @tinypipe packages they depend on, by name → folder. */
function withOurDependencies(all: Map<string, string>, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (name: string): void => {
    const folder = all.get(name);
    if (!folder) throw new Error(`${name} is not a published workspace package`);
    if (out.has(name)) return;
    out.set(name, folder);
    const pkg = JSON.parse(readFileSync(join(repoRoot, folder, 'package.json'), 'utf8')) as Manifest;
    for (const d of Object.keys(pkg.dependencies ?? {})) if (all.has(d)) visit(d);
  };
  for (const n of names) visit(n);
  return out;
}

function setUp(root: string, only: readonly string[] | undefined): ConsumerProject {
  const dir = join(root, 'app');
  const packs = join(dir, 'packs');
  mkdirSync(packs, { recursive: true });
  const packages = only ? withOurDependencies(publishedPackages(), only) : publishedPackages();
  const packed = JSON.parse(
    execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', packs, ...[...packages.values()].flatMap((f) => ['-w', f])],
      { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  ) as { name: string; version: string; filename: string; integrity: string; files: { path: string }[] }[];

  const lockPackages: Record<string, LockEntry> = {};
  const dependencies: Record<string, string> = {};
  for (const p of packed) {
    const manifest = JSON.parse(
      readFileSync(join(repoRoot, packages.get(p.name)!, 'package.json'), 'utf8'),
    ) as Manifest;
    if (!only || only.includes(p.name)) dependencies[p.name] = `file:packs/${p.filename}`;
    lockPackages[`node_modules/${p.name}`] = {
      version: p.version,
      resolved: `file:packs/${p.filename}`,
      integrity: p.integrity,
      license: 'MIT',
      ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
      ...(manifest.peerDependencies ? { peerDependencies: manifest.peerDependencies } : {}),
      ...(manifest.peerDependenciesMeta ? { peerDependenciesMeta: manifest.peerDependenciesMeta } : {}),
      // npm ci links bins from the lockfile's record, not from the unpacked package.json
      ...(manifest.bin ? { bin: manifest.bin } : {}),
    };
  }
  Object.assign(lockPackages, thirdPartyLock(packages));
  const pkg = {
    name: 'tinypipe-consumer-app',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(
    join(dir, 'package-lock.json'),
    `${JSON.stringify(
      {
        name: pkg.name,
        version: pkg.version,
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: pkg.name, version: pkg.version, dependencies }, ...lockPackages },
      },
      null,
      2,
    )}\n`,
  );
  if (!only) cpSync(fileURLToPath(new URL('../fixture/', import.meta.url)), dir, { recursive: true });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // the installed firmware builds into the user's cache (found because it lies under node_modules):
    // here a cache of this project's own, removed with it
    XDG_CACHE_HOME: join(root, 'cache'),
    npm_config_update_notifier: 'false',
  };
  delete env.TINYPIPE_FIRMWARE_CACHE; // the cache must be found the way a user's install finds it
  // npm scripts set npm_* variables for the workspace; the inner npm must not see them
  for (const k of Object.keys(env)) if (k.startsWith('npm_') && k !== 'npm_config_cache') delete env[k];
  const run = (cmd: string, args: readonly string[], extra: Record<string, string> = {}) =>
    execFileSync(cmd, args, {
      cwd: dir,
      env: { ...env, ...extra },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    });
  try {
    run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(
      `npm ci --offline of the packed tarballs failed (a third-party package missing from npm's cache? run npm ci at the repository root first):\n${err.stderr ?? String(e)}`,
    );
  }
  return {
    dir,
    files: new Map(packed.map((p) => [p.name, p.files.map((f) => f.path)])),
    run,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
