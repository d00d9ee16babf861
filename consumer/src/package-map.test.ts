/**
 * The README's package map is drawn from the packages' own package.json files (docs/pictures/package-map.mjs):
 * the committed picture must be what they draw today, so a dependency added or dropped shows in the map.
 * Run `npm run pictures` (or the one-liner in the failure message) after changing a package's dependencies.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs module of the docs, without types
import { packageMapSvg, readPackages } from '../../docs/pictures/package-map.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const committed = fileURLToPath(new URL('../../docs/pictures/package-map.svg', import.meta.url));

describe('the package map (README, docs/pictures/package-map.svg)', () => {
  it('is what the packages’ package.json files draw today', () => {
    expect(
      readFileSync(committed, 'utf8'),
      "regenerate it: node -e \"import('./docs/pictures/package-map.mjs').then((m) => process.stdout.write(m.packageMapSvg('.')))\" > docs/pictures/package-map.svg",
    ).toBe(packageMapSvg(root));
  });

  it('shows the protocol with no dependencies and every other published package above it', () => {
    const packages = readPackages(root) as { name: string; uses: string[]; external: string[] }[];
    const protocol = packages.find((p) => p.name === '@tinypipe/protocol');
    expect(protocol).toMatchObject({ uses: [], external: [] });
    for (const p of packages) if (p !== protocol) expect(p.uses, p.name).toContain('@tinypipe/protocol');
  });

  it('names every published package in the README’s package table', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    for (const { name } of readPackages(root) as { name: string }[])
      expect(readme, name).toContain(`[\`${name}\`](packages/${name.slice('@tinypipe/'.length)})`);
  });
});
