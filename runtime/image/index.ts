// runtime/image: content store, layers, tags and import.
export * from './types.js';
export { BlobStore, DigestMismatch } from './blob-store.js';
export { LayerStore, diffIdOf } from './layer-store.js';
export { convertWhiteouts } from './whiteouts.js';
export { ImageStore, tagKey, hostArchitecture } from './image-store.js';
export type { ImageConfigBlob, ImageSummary, RemoveReport } from './image-store.js';
