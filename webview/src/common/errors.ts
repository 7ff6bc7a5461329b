/**
 * Imported first by every webview: any uncaught error or rejected promise is
 * shown in the view as text (role=alert) instead of leaving a blank panel.
 */
function show(message: string): void {
  const app = document.getElementById('app') ?? document.body;
  let box = document.getElementById('fatal-errors');
  if (!box) {
    box = document.createElement('div');
    box.id = 'fatal-errors';
    box.className = 'messages';
    box.setAttribute('data-testid', 'fatal-errors');
    app.prepend(box);
  }
  const p = document.createElement('div');
  p.className = 'message error';
  p.setAttribute('role', 'alert');
  p.textContent = `Internal error in this view: ${message}`;
  box.appendChild(p);
}
window.addEventListener('error', (e) => show(e.error instanceof Error ? `${e.error.message}\n${e.error.stack ?? ''}` : String(e.message)));
window.addEventListener('unhandledrejection', (e) => show(e.reason instanceof Error ? e.reason.message : String(e.reason)));
export {};
