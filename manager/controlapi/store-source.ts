// Routes reach the store through this: it throws NotManager on nodes that hold no replica.
import type { MemoryStore } from '../store/index.js';

export type StoreSource = () => MemoryStore;
