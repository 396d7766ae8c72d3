// A small method-and-path router. Unknown paths answer 404, known paths with another method
// 405 with an Allow header; both in the one JSON error shape.
import { HttpError } from './http.js';

export class Router {
  constructor() {
    this.routes = [];
  }

  /**
   * @param {string} method
   * @param {string} pattern path with `:name` segments, or a trailing `*name` for the rest
   * @param {(req: Request, params: Record<string,string>, rt: object) => Promise<Response>} handler
   */
  on(method, pattern, handler) {
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
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** Finds the handler for a request, or throws 404 / 405. */
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
      return { handler: route.handler, params };
    }
    if (allowed.size > 0) {
      throw new HttpError('method_not_allowed', `${method} is not allowed on ${pathname}`, {
        headers: { allow: [...allowed].join(', ') },
      });
    }
    throw new HttpError('not_found', `no route for ${method} ${pathname}`);
  }
}
