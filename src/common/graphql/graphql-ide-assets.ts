/**
 * The GraphQL IDE's browser files and the npm packages that hold them. Those packages (graphiql,
 * react, react-dom) are development dependencies: a production install (`npm ci --omit=dev`, as in
 * the Docker image) leaves them out, so a server never ships a browser app it does not serve.
 */
export const IDE_ASSETS: Record<string, { module: string; file: string; type: string }> = {
  'react.js': { module: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': {
    module: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript',
  },
  'graphiql.js': { module: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { module: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

function isInstalled(module: string): boolean {
  try {
    require.resolve(`${module}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** The IDE packages this installation lacks; empty where the IDE can be served. */
export function missingIdePackages(): string[] {
  const modules = new Set(Object.values(IDE_ASSETS).map((asset) => asset.module));
  return [...modules].filter((module) => !isInstalled(module));
}
