// Compiles the project into dist/ only when a source changed: the TypeScript build mode
// (`tsc -b`) compares the inputs against dist/.tsbuildinfo.build and rebuilds incrementally.
// Used before `npm start`, the CLI and the developer scripts; `npm run build` stays the full
// check CI runs. Plain JavaScript, because it has to run before anything is compiled.
// Progress goes to stderr, so a command's own stdout (the CLI's output) stays clean.
// CommonJS: importing the compiler from an ES module makes Node scan all of it for exports.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const ts = require('typescript');

const root = join(__dirname, '..');
const project = join(root, 'tsconfig.build.json');
// The build info alone says "up to date" even when these were deleted by hand.
const entryPoints = ['dist/src/main.js', 'dist/src/cli/main.js'];

const say = (line) => process.stderr.write(`roomkey: ${line}\n`);
const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

const reportDiagnostic = ts.createDiagnosticReporter(ts.sys, process.stderr.isTTY === true);
const host = ts.createSolutionBuilderHost(ts.sys, undefined, reportDiagnostic, () => undefined);
const force = entryPoints.some((f) => !existsSync(join(root, f)));
const builder = ts.createSolutionBuilder(host, [project], { force });

const next = builder.getNextInvalidatedProject();
if (!next) {
  say(`up to date (${seconds()})`);
  process.exit(0);
}
say('compiling…');
const status = next.done();
if (status !== ts.ExitStatus.Success) {
  say(`compilation failed (${seconds()})`);
  process.exit(1);
}
say(`compiled in ${seconds()}`);
