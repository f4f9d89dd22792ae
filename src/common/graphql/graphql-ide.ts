import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Controller,
  Get,
  type NestMiddleware,
  NotFoundException,
  Param,
  Res,
} from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import { Public } from '../auth/decorators';
import { IDE_ASSETS } from './graphql-ide-assets';

/**
 * The interactive GraphQL IDE (GraphiQL), served entirely from this app's own dependencies so it
 * works offline and air-gapped: no CDN, no external fonts. Its headers tab sends `Authorization`.
 * GraphiQL keeps its state (tabs, headers) in sessionStorage, not its default localStorage: the
 * headers survive a reload but not the tab, so a password or API secret is not left on disk.
 */
export const IDE_ASSET_PREFIX = '/graphql-ide';

const INIT_SCRIPT = `(function () {
  var url = window.location.origin + '/graphql';
  var fetcher = GraphiQL.createFetcher({ url: url });
  var defaultHeaders = JSON.stringify({ Authorization: 'Basic <base64 of keyId:secret or email:password>' }, null, 2);
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    storage: window.sessionStorage,
    defaultHeaders: defaultHeaders,
    defaultQuery: '# Roomkey GraphQL. Put your credentials in the Headers tab below, then run:\\n{\\n  me { tenant { slug name } role authMethod }\\n}\\n'
  }));
})();`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Roomkey GraphQL</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${IDE_ASSET_PREFIX}/graphiql.css">
<style>
html,body{height:100%;margin:0}
body{display:flex;flex-direction:column}
#graphiql{flex:1;min-height:0}
#sign-in-help{margin:0;padding:6px 12px;font:13px/1.4 system-ui,sans-serif;background:#f3f4f6;border-bottom:1px solid #d1d5db}
#sign-in-help code{font-size:12px}
</style>
</head>
<body>
<p id="sign-in-help">Sign in with the <b>Headers</b> tab:
<code>{"Authorization": "Basic …"}</code> where … is the base64 of <code>email:password</code>
(or <code>keyId:secret</code> of an API key), on one line, for example from
<code>printf '%s' 'email:password' | base64</code>.
Headers are kept in this browser tab only, until it is closed.</p>
<div id="graphiql">Loading the GraphQL IDE…</div>
<script src="${IDE_ASSET_PREFIX}/react.js"></script>
<script src="${IDE_ASSET_PREFIX}/react-dom.js"></script>
<script src="${IDE_ASSET_PREFIX}/graphiql.js"></script>
<script src="${IDE_ASSET_PREFIX}/init.js"></script>
</body>
</html>`;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/** Answers a browser's GET /graphql with the IDE; everything else continues to Apollo. */
export class GraphqlIdeMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const wantsHtml =
      req.method === 'GET' && req.accepts(['application/json', 'text/html']) === 'text/html';
    if (!wantsHtml || req.query.query !== undefined) return next();
    securityHeaders(res);
    res.type('html').send(PAGE);
  }
}

@Controller(IDE_ASSET_PREFIX.slice(1))
export class GraphqlIdeAssetsController {
  private readonly cache = new Map<string, Buffer>();

  @Public()
  @Get(':file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (file === 'init.js') {
      res.type('text/javascript').send(INIT_SCRIPT);
      return;
    }
    const asset = Object.hasOwn(IDE_ASSETS, file) ? IDE_ASSETS[file] : undefined;
    if (!asset) throw new NotFoundException();
    let body = this.cache.get(file);
    if (!body) {
      const pkg = path.dirname(require.resolve(`${asset.module}/package.json`));
      body = fs.readFileSync(path.join(pkg, asset.file));
      this.cache.set(file, body);
    }
    res.type(asset.type).send(body);
  }
}
