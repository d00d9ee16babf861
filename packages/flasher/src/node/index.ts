/** Node-only helpers: read a `tinypipe build` folder, an ESP-IDF build, a flasher stub file. (Ports come from `@tinypipe/transport-uart/node`.) */

export { FLASHER_ERROR_CODES, type FlasherErrorCodes } from '../errors/codes.js';
export {
  type BoardFolder,
  type BuiltBoard,
  readBuild,
  rememberMac,
  type WriteBuildOptions,
  writeBuild,
} from './build-dir.js';
export { readIdfBuild } from './idf-build.js';
export { type CheckedRegion, checkRegions, type Partition, parsePartitionTable } from './regions.js';
export { ESPTOOL_JS, esptoolJsStubPath, loadStub } from './stub-file.js';
