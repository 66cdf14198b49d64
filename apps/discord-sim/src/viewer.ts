/** The viewer page: plain HTML, CSS and JS served from `src/viewer`, no build step and no external assets. */
import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/viewer.css': ['viewer.css', 'text/css; charset=utf-8'],
  '/viewer.js': ['viewer.js', 'text/javascript; charset=utf-8'],
} as const;

/** Serves `/`, `/viewer.css` and `/viewer.js` with a strict Content-Security-Policy. */
export function createViewerRouter(): Router {
  const router = express.Router();
  for (const [route, [file, type]] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./viewer/${file}`, import.meta.url));
    router.get(route, (_req, res) => {
      res.setHeader('Content-Type', type);
      res.setHeader('Cache-Control', 'no-cache');
      // Message content is untrusted: no inline script, no remote script, images from anywhere.
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.send(body);
    });
  }
  return router;
}
