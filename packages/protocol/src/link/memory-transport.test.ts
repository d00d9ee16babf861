import { describe, expect, it } from 'vitest';
import { transportContract } from '../testing/transport-contract.js';
import { createTransportPair } from './memory-transport.js';

transportContract('in-memory pair', () => createTransportPair(), { describe, it, expect });
