import { type NextFunction, type Request, type Response } from 'express';
import { type JoinLinkCheck, type JoinLinksService } from './join-links.service';
import { BROWSER_VENDORS } from '../compat/browser-vendors';
import { answerCors } from '../compat/compat-cors-headers';

/** `/t/<slug>/j/<link>[/…]`: a path through a join link, whatever follows the link. */
const LINK_PREFIX = /^\/t\/([^/?]+)\/j\/([^/?]+)/;
/** What follows it on a compatibility route: `/<vendor>[/rest][?query]`. */
const VENDOR_REST = /^\/([a-z]+)(\/[^?]*)?(\?.*)?$/;
const KEY_ID = /^jl_[0-9a-f]{24}(?=_)/;

/** A request that came through a join link: the link as presented and the vendor segment. */
export interface LinkRequest {
  presented: string;
  vendor: string;
  /** The link's check, made once per request (CORS here, authentication in the guard). */
  check?: Promise<JoinLinkCheck>;
}

const linkRequests = new WeakMap<object, LinkRequest>();

/** The join link a request came through, if any (set by {@link joinLinkPaths}). */
export function linkRequestOf(req: object): LinkRequest | undefined {
  return linkRequests.get(req);
}

/** The link's check for this request, shared by everything that needs it. */
export function linkCheck(links: JoinLinksService, link: LinkRequest): Promise<JoinLinkCheck> {
  link.check ??= links.check(link.presented);
  return link.check;
}

/**
 * Join links in the path (README "Join links"). A front end whose library cannot send an
 * `Authorization` header sets its base URL to `/t/<slug>/j/<link>/<vendor>`; this middleware,
 * first after the request id and input hygiene, routes such a request to the vendor's ordinary
 * compatibility route (`/t/<slug>/<vendor>/…`) and remembers the link for the authentication
 * guard, which then accepts nothing else. The link's secret is removed from `originalUrl`, which
 * logs and metrics read, keeping its public id.
 *
 * CORS for these paths is the link's own: only its listed origins get CORS headers (preflights
 * answered here, before authentication); the tenant's compat origins do not apply.
 */
export function joinLinkPaths(links: JoinLinksService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const prefix = LINK_PREFIX.exec(req.url);
    if (!prefix) {
      next();
      return;
    }
    const [head, slug, presented] = prefix;
    const keyId = KEY_ID.exec(presented)?.[0] ?? 'jl_invalid';
    const after = req.url.slice(head.length);
    const m = VENDOR_REST.exec(after);
    if (!m || !Object.hasOwn(BROWSER_VENDORS, m[1])) {
      // Not a route a link opens (it will be 404): logs, metrics and the 404 itself never see
      // the secret.
      req.url = req.originalUrl = `/t/${slug}/j/${keyId}${after}`;
      next();
      return;
    }
    const [, vendor, rest = '', query = ''] = m;
    const link: LinkRequest = { presented, vendor };
    linkRequests.set(req, link);
    req.url = `/t/${slug}/${vendor}${rest}${query}`;
    req.originalUrl = `/t/${slug}/j/${keyId}/${vendor}${rest}${query}`;
    const origin = req.headers.origin;
    if (!origin) {
      next();
      return;
    }
    linkCheck(links, link).then(
      (check) => answerCors(check.ok ? check.link.origins : [], req, res, next),
      (err: unknown) => next(err),
    );
  };
}
