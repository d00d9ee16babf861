/** `npm run build` of @tinypipe/firmware: builds the host board (and, with TP_SANITIZE=1, the sanitized one). */
import { buildPosixBoard } from './build.js';

const built = buildPosixBoard({ sanitize: process.env.TP_SANITIZE === '1' });
process.stdout.write(`built ${built.board}\n`);
