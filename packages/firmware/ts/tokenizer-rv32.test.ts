/**
 * The firmware's tokenizer built for bare-metal rv32imafc and run under qemu-system-riscv32: the same suite
 * as tokenizer.test.ts (every golden, every id decoded, fast-check batches) with fewer property batches.
 */

import { rv32Runner } from './tokenizer.test-helper.js';
import { tokenizerSuite } from './tokenizer-suite.test-helper.js';

tokenizerSuite(rv32Runner, 5, 100);
