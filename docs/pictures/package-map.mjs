/**
 * The package map (README "Packages"): which published @tinypipe package depends on which, drawn from the
 * packages' own package.json files, so the picture cannot drift from the code — consumer/src/package-map.test.ts
 * regenerates it and fails when docs/pictures/package-map.svg differs. `npm run pictures` writes it.
 *
 * Layout: one row per level, a package's level being 1 + the highest level among the @tinypipe packages it
 * depends on (the protocol, with none, at the bottom). Arrows are the direct dependencies that are not
 * implied by another (the transitive reduction); each box lists its third-party runtime dependencies and
 * optional peers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The published packages under `root`/packages: name, @tinypipe dependencies, others, optional peers. */
export function readPackages(root) {
  const dir = join(root, 'packages');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => JSON.parse(readFileSync(join(dir, e.name, 'package.json'), 'utf8')))
    .filter((p) => !p.private)
    .map((p) => {
      const deps = Object.keys(p.dependencies ?? {});
      const optional = Object.keys(p.peerDependenciesMeta ?? {}).filter(
        (n) => p.peerDependenciesMeta[n]?.optional,
      );
      return {
        name: p.name,
        uses: deps.filter((d) => d.startsWith('@tinypipe/')).sort(),
        external: deps.filter((d) => !d.startsWith('@tinypipe/')).sort(),
        optional: [
          ...optional,
          ...Object.keys(p.peerDependencies ?? {}).filter((n) => !optional.includes(n)),
        ].sort(),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Throws when a package depends on itself through others (the map would have no levels). */
function levels(packages) {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const level = new Map();
  const visit = (name, path) => {
    if (level.has(name)) return level.get(name);
    if (path.includes(name)) throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
    const p = byName.get(name);
    const below = (p?.uses ?? []).filter((d) => byName.has(d)).map((d) => visit(d, [...path, name]));
    const l = below.length ? 1 + Math.max(...below) : 0;
    level.set(name, l);
    return l;
  };
  for (const p of packages) visit(p.name, []);
  return level;
}

/** The direct dependencies of each package that no other dependency of it already implies. */
function reduced(packages) {
  const uses = new Map(
    packages.map((p) => [p.name, p.uses.filter((d) => packages.some((q) => q.name === d))]),
  );
  const reaches = (from, to) => {
    const seen = new Set();
    const stack = [...(uses.get(from) ?? [])];
    while (stack.length) {
      const n = stack.pop();
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(uses.get(n) ?? []));
    }
    return false;
  };
  return packages.flatMap((p) =>
    uses
      .get(p.name)
      .filter((d) => !uses.get(p.name).some((o) => o !== d && reaches(o, d)))
      .map((d) => [p.name, d]),
  );
}

const BOX_W = 208;
const BOX_H = 56;
const GAP_X = 24;
const GAP_Y = 56;
const MARGIN = 20;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The map as a self-contained SVG (same bytes for the same package.json files). */
export function packageMapSvg(root) {
  const packages = readPackages(root);
  const level = levels(packages);
  const top = Math.max(...level.values());
  // an arrow that skips levels runs through a slot of its own in each row between (so it never crosses a box)
  const edges = reduced(packages).map(([from, to]) => {
    const via = [];
    for (let l = level.get(from) - 1; l > level.get(to); l--)
      via.push({ id: `${from}>${to}@${l}`, level: l });
    return { from, to, via };
  });
  const rows = Array.from({ length: top + 1 }, (_, l) => [
    ...packages.filter((p) => level.get(p.name) === l).map((p) => ({ id: p.name, box: true, uses: p.uses })),
    ...edges.flatMap((e) =>
      e.via.filter((v) => v.level === l).map((v) => ({ id: v.id, box: false, uses: [e.to] })),
    ),
  ]);
  const w = (n) => (n.box ? BOX_W : 12);
  const rowWidth = (row) => row.reduce((a, n) => a + w(n), 0) + GAP_X * (row.length - 1);
  const width = MARGIN * 2 + Math.max(...rows.map(rowWidth));
  const x = new Map(); // centre of each node
  // bottom row in name order; each row above ordered by where what it points at sits (fewer crossings)
  rows.forEach((row, l) => {
    if (l > 0) {
      const target = (n) => {
        const below = n.box
          ? n.uses.map((d) => edges.find((e) => e.from === n.id && e.to === d)).filter(Boolean)
          : [];
        const xs = n.box ? below.map((e) => x.get(e.via.length ? e.via[0].id : e.to)) : [x.get(nextOf(n.id))];
        return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      };
      row.sort((a, b) => target(a) - target(b) || a.id.localeCompare(b.id));
    }
    let at = (width - rowWidth(row)) / 2;
    for (const n of row) {
      x.set(n.id, at + w(n) / 2);
      at += w(n) + GAP_X;
    }
  });
  function nextOf(viaId) {
    const e = edges.find((e) => e.via.some((v) => v.id === viaId));
    const i = e.via.findIndex((v) => v.id === viaId);
    return i + 1 < e.via.length ? e.via[i + 1].id : e.to;
  }
  const rowY = (l) => MARGIN + (top - l) * (BOX_H + GAP_Y);
  const height = MARGIN * 2 + (top + 1) * (BOX_H + GAP_Y) - GAP_Y + 28;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    '<title>@tinypipe package map: which package depends on which</title>',
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 10 5 0 10z" fill="#555"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  for (const e of edges) {
    const points = [[x.get(e.from), rowY(level.get(e.from)) + BOX_H]];
    for (const v of e.via) points.push([x.get(v.id), rowY(v.level)], [x.get(v.id), rowY(v.level) + BOX_H]);
    points.push([x.get(e.to), rowY(level.get(e.to))]);
    out.push(
      `<polyline points="${points.map(([px, py]) => `${+px.toFixed(1)},${py}`).join(' ')}" fill="none" stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>`,
    );
  }
  for (const p of packages) {
    const bx = x.get(p.name) - BOX_W / 2;
    const by = rowY(level.get(p.name));
    const extra = [
      p.external.length ? p.external.join(' · ') : 'no other dependencies',
      ...(p.optional.length ? [`optional peer: ${p.optional.join(', ')}`] : []),
    ];
    out.push(
      `<rect x="${+bx.toFixed(1)}" y="${by}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${level.get(p.name) === 0 ? '#eef6ee' : '#f3f5fa'}" stroke="#44536b"/>`,
      `<text x="${+x.get(p.name).toFixed(1)}" y="${by + 20}" text-anchor="middle" font-size="14" font-weight="600" fill="#1b2430">${esc(p.name)}</text>`,
      ...extra.map(
        (t, i) =>
          `<text x="${+x.get(p.name).toFixed(1)}" y="${by + 36 + i * 13}" text-anchor="middle" font-size="10.5" fill="#4a5566">${esc(t)}</text>`,
      ),
    );
  }
  out.push(
    `<text x="${MARGIN}" y="${height - 10}" font-size="11" fill="#4a5566">An arrow: depends on (direct, implied ones left out). Drawn from packages/*/package.json by docs/pictures/package-map.mjs.</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
