export * from './error-code';
export * from './domain.exception';
export * from './database-unavailable';
export * from './to-client-error';
export * from './http-exception.filter';
