#!/usr/bin/env node
// The `tinypipe` command. npm links this committed file at install time, so in a checkout of the
// repository `npx tinypipe` is this CLI right after `npm ci`, never a package fetched from the registry.
// It runs the build (dist/bin.js); in a checkout not built yet (or with TINYPIPE_FROM_SOURCE=1), it runs
// the TypeScript sources through tsx, a devDependency of the repository — the published package has
// dist/ and never needs tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/bin.js', import.meta.url);
const source = new URL('../src/bin.ts', import.meta.url);

if (existsSync(dist) && process.env.TINYPIPE_FROM_SOURCE !== '1') {
  await import(dist.href);
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'tinypipe: the CLI is not built (no dist/bin.js) and tsx is not installed: run `npm ci && npm run build` at the repository root\n',
    );
    process.exit(1);
  }
  // Workspace packages resolve to their sources (tsconfig.source.json), so nothing needs building first.
  register({ tsconfig: new URL('../tsconfig.source.json', import.meta.url).pathname });
  await import(source.href);
} else {
  process.stderr.write(
    'tinypipe: this @tinypipe/cli install has no dist/bin.js: reinstall it (npm install @tinypipe/cli), or in a checkout run `npm run build`\n',
  );
  process.exitCode = 1;
}
