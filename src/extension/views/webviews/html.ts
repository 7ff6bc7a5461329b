/**
 * The HTML shell of every TraceLift webview: a strict Content-Security-Policy
 * with a fresh nonce per load, one bundled script, one stylesheet, and no
 * data at all (everything the view shows arrives later as messages and is
 * rendered with textContent). No `vscode` import.
 */
import { randomBytes } from 'node:crypto';

export type WebviewName = 'runView' | 'inspector' | 'traceDiff' | 'compareRuns';

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export interface ShellOptions {
  view: WebviewName;
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  /** webview.asWebviewUri(dist/webview/<view>.js) */
  scriptUri: string;
  /** webview.asWebviewUri(media/webview.css) */
  styleUri: string;
  /** Fixed per view (never data). */
  title: string;
}

/** A whole page: the same head (charset, CSP, stylesheet) for the live views and the static message page. */
function page(head: { csp: string; styleUri: string; extra?: string }, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(head.csp)}">
<link rel="stylesheet" href="${escapeHtml(head.styleUri)}">${head.extra ?? ''}
</head>
${body}
</html>`;
}

export function buildWebviewHtml(o: ShellOptions): string {
  const e = escapeHtml;
  return page(
    {
      csp: contentSecurityPolicy(o.cspSource, o.nonce),
      styleUri: o.styleUri,
      extra: `\n<meta name="viewport" content="width=device-width, initial-scale=1.0">\n<title>${e(o.title)}</title>`,
    },
    `<body data-view="${e(o.view)}">
<main id="app" data-testid="${e(o.view)}-root" aria-busy="true"><p class="loading">Loading…</p></main>
<script nonce="${e(o.nonce)}" src="${e(o.scriptUri)}"></script>
</body>`,
  );
}

/** A static page (no script) for a panel that cannot be restored. */
export function buildMessageHtml(cspSource: string, styleUri: string, message: string): string {
  return page(
    { csp: `default-src 'none'; style-src ${cspSource}`, styleUri },
    `<body><main id="app"><p class="message error" role="alert" data-testid="restore-error">${escapeHtml(message)}</p></main></body>`,
  );
}

/** A file-name-safe rendering of an untrusted title (it only names a diff editor tab). */
export function safeDocName(title: string): string {
  const cleaned = title
    .replace(/[\u0000-\u001f\u007f/\\?#%*:|"<>]+/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return cleaned || 'trace';
}
