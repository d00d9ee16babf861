export { EXP_OVERFLOW, EXP_POLY, EXP_UNDERFLOW, expf32, LN2_HI, LN2_LO, LOG2E } from './exp.js';
export { f32Bits, f32FromBits, fp16ToFp32, fp32ToFp16 } from './fp16.js';
export { fnv1a32, hashActivations, hashHex } from './hash.js';
export { roundHalfAway } from './round.js';
