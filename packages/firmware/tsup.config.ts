import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'ts/index.ts', 'build-cli': 'ts/build-cli.ts' },
  format: ['esm'],
  dts: { entry: { index: 'ts/index.ts' } },
  clean: true,
  target: 'node20',
  platform: 'node',
});
