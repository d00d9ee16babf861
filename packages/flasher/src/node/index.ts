/** Node-only helpers: read a `tinypipe build` folder. (Ports come from `@tinypipe/transport-uart/node`.) */
export { type BuiltBoard, readBuild, rememberMac } from './build-dir.js';
export { readIdfBuild } from './idf-build.js';
