/**
 * `@tinypipe/firmware` — the portable C firmware's sources ship in this package (`src/`, `ports/`,
 * `CMakeLists.txt`); these helpers build the simulated board on the host and drive it.
 */
export { Board, type BoardInfo, type SpawnBoardOptions, spawnBoard } from './board.js';
export {
  type BuildOptions,
  type BuiltPrograms,
  buildPosixBoard,
  buildRv32,
  firmwareBuildDir,
  firmwareRoot,
  runRv32,
  runRv32Program,
} from './build.js';
export { type PtyBoard, type PtyBoardOptions, spawnPtyBoard, spawnPtyChain } from './pty-board.js';
export {
  type Ring,
  type RingBoard,
  type RingDriverOptions,
  type RingOptions,
  ringArgs,
  spawnRing,
} from './ring.js';
export { checkToolchain, type Env, firmwareCacheDir, type Toolchain } from './toolchain.js';
