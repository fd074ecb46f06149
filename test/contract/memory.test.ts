import { createMemoryEngine } from '../../src/engines/memory/engine-memory.js';
import { engineContract } from './engine-contract.js';

engineContract('memory', async (config) => createMemoryEngine(config), { multiNode: false });
