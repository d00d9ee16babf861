export {
  FINGERPRINT_BYTES,
  FINGERPRINT_MAGIC,
  FINGERPRINT_VERSION,
  fingerprintHex,
  modelFingerprint,
  QUANT_FINGERPRINT_MAGIC,
  quantFingerprint,
} from './fingerprint.js';
