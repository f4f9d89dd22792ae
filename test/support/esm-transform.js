/**
 * Jest transformer for the few ES-module-only dependencies (see jest.config.js). Plain TypeScript
 * transpilation to CommonJS with `useDefineForClassFields: true`: their classes (jose's errors, for
 * one) set fields after `super()`, which the project's own `false` setting would reorder and break.
 * ts-jest cannot do this: it caches one compiler configuration per Jest project.
 */
const crypto = require('node:crypto');
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        useDefineForClassFields: true,
      },
    });
    return { code: outputText };
  },
  getCacheKey(source, filename) {
    return crypto
      .createHash('sha256')
      .update(`esm-transform-v1|${ts.version}|${filename}|${source}`)
      .digest('hex');
  },
};
