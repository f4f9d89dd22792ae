export * from './caches';
export * from './invalidation';
export * from './invalidation-bus';
export * from './ttl-lru';
export * from './cache.module';
