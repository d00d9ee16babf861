import { describe, expect, it } from 'vitest';
import { createTransportPair } from '../link/memory-transport.js';
import { transportContract } from './transport-contract.js';

transportContract('in-memory pair', () => createTransportPair(), { describe, it, expect });
