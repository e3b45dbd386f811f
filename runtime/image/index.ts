// runtime/image: content store, layers, tags and import.
export * from './types.js';
export { BlobStore, DigestMismatch } from './blob-store.js';
export { LayerStore, diffIdOf } from './layer-store.js';
export { convertWhiteouts } from './whiteouts.js';
export { ImageStore, tagKey, hostArchitecture } from './image-store.js';
export type { ImageConfigBlob, ImageSummary, RemoveReport } from './image-store.js';
export { RegistryClient, parseChallenge, registryBaseUrl } from './registry-client.js';
export type { Credentials, RegistryClientOptions } from './registry-client.js';
export { pullImage, choosePlatform } from './puller.js';
export type { PullOptions, PullProgress } from './puller.js';
