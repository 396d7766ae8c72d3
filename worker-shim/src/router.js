// A small method-and-path router. Unknown paths answer 404, known paths with another method
// 405 with an Allow header; both in the one JSON error shape. Every route declares who may call
// it (see `on`); a route that declares nothing is for admins only.
import { HttpError } from './http.js';

/** The access of a route that declares none: admins only (the safe default). */
export const ADMIN_ONLY = Object.freeze({ role: 'admin', scope: 'admin' });

const ROLES = ['readonly', 'user', 'admin'];

function normalizeAccess(pattern, access) {
  if (access === undefined) return ADMIN_ONLY;
  if (access.public === true) return Object.freeze({ public: true });
  if (!ROLES.includes(access.role)) {
    throw new Error(`route ${pattern}: access.role must be one of ${ROLES.join(', ')}`);
  }
  return Object.freeze({
    role: access.role,
    // The API area a token's scopes must include; null: any valid credential.
    scope: access.scope === undefined ? (access.role === 'admin' ? 'admin' : null) : access.scope,
    // The route takes ?user= (an admin may name any user; others only themselves).
    user: access.user === true,
    // false: never write an audit row (a read-only POST such as the pricing calculator).
    audit: access.audit !== false,
  });
}

export class Router {
  constructor() {
    this.routes = [];
  }

  /**
   * @param {string} method
   * @param {string} pattern path with `:name` segments, or a trailing `*name` for the rest
   * @param {(req: Request, params: Record<string,string>, rt: object, ctx: object,
   *   auth: import('./auth.js').Auth | null) => Promise<Response>} handler
   * @param {{public?: true, role?: 'readonly'|'user'|'admin', scope?: string|null,
   *   user?: boolean, audit?: boolean}} [access] who may call it: `public` needs no token;
   *   otherwise a bearer token with at least `role` and the `scope` (area: storage, usage,
   *   costs, health, alerts, metrics, admin). Omitted: admin only.
   */
  on(method, pattern, handler, access) {
    const names = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        if (seg.startsWith('*')) {
          names.push(seg.slice(1));
          return '(.+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({
      method,
      pattern,
      regex: new RegExp(`^${source}$`),
      names,
      handler,
      access: normalizeAccess(pattern, access),
    });
    return this;
  }

  /** Finds the route for a request ({handler, params, access, pattern}), or throws 404 / 405. */
  match(method, pathname) {
    const allowed = new Set();
    for (const route of this.routes) {
      const m = route.regex.exec(pathname);
      if (!m) continue;
      if (route.method !== method) {
        allowed.add(route.method);
        continue;
      }
      const params = {};
      route.names.forEach((name, i) => {
        params[name] = m[i + 1];
      });
      return { handler: route.handler, params, access: route.access, pattern: route.pattern };
    }
    if (allowed.size > 0) {
      throw new HttpError('method_not_allowed', `${method} is not allowed on ${pathname}`, {
        headers: { allow: [...allowed].join(', ') },
      });
    }
    throw new HttpError('not_found', `no route for ${method} ${pathname}`);
  }

  /** Every route with its access, for the authorization matrix test and the docs. */
  list() {
    return this.routes.map(({ method, pattern, access }) => ({ method, pattern, access }));
  }
}
