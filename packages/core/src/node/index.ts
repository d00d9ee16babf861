export { resolveInside } from './confine.js';
export {
  bundledModelsDir,
  loadCheckpoint,
  parseSha256Sums,
  readVerifiedFile,
  writeFileAtomic,
} from './files.js';
