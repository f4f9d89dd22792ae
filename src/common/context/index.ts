export * from './request-context';
export * from './request-meta';
export * from './ctx.decorator';
export * from './origin';
