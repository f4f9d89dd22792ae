export * from './roles';
export * from './principal';
export * from './decorators';
