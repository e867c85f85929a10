/** Small helpers for the self-contained HTML pages (no framework, no external assets). */
import { randomBytes } from 'node:crypto';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** JSON that is safe inside <script type="application/json"> (no `</script>`, no U+2028/9). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Inline script and style only, data from this origin only; old browsers ignore it harmlessly. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    // Token pages carry a token id in the path: never leak it to another site.
    'referrer-policy': 'no-referrer',
  };
}

export function messagePage(title: string, message: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>body{margin:0;font-family:Arial,Helvetica,sans-serif;background:#0d2233;color:#fff;display:flex;align-items:center;justify-content:center;min-height:100vh;text-align:center}h1{font-size:2em;margin:0 0 .5em}p{font-size:1.2em;color:#b8cad8;padding:0 1em}</style>
</head><body><div><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></div></body></html>`;
}

/** `xhrJson(url, done(status, body))` for the pages' scripts: ES5, for old TV and phone browsers. */
export const XHR_JSON_ES5 = `  function xhrJson(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url, true);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      done(xhr.status, body);
    };
    xhr.send(null);
  }`;
