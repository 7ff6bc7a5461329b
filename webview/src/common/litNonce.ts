/**
 * Imported first by every webview entry: hands the page's script nonce to Lit
 * (used by @vscode-elements/elements) in case it must fall back to <style>
 * elements instead of constructable stylesheets, so the strict CSP holds.
 */
const current = document.currentScript as HTMLScriptElement | null;
(globalThis as { litNonce?: string }).litNonce = current?.nonce || undefined;
export {};
