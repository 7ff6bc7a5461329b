/** The run view's message strip: one message per key (status, issues, errors, search…), most recent text wins. */
import { byId, h } from '../common/dom';

type Level = 'info' | 'warning' | 'error';
const messages = new Map<string, { level: Level; text: string; details?: string[] }>();

/** Sets the message under `key` (and redraws unless `render` is false: a caller setting several redraws once). */
export function showMessage(key: string, level: Level, text: string, details?: string[], render = true): void {
  messages.set(key, { level, text, details });
  if (render) renderMessages();
}

export function clearMessage(key: string, render = true): void {
  if (messages.delete(key) && render) renderMessages();
}

export function renderMessages(): void {
  const box = byId('messages');
  box.replaceChildren(
    ...[...messages.entries()].map(([key, m]) => {
      const p = h(
        'div',
        { className: `message ${m.level}`, testid: `message-${key}`, role: m.level === 'error' ? 'alert' : undefined },
        m.text,
      );
      if (m.details && m.details.length > 1) {
        p.appendChild(
          h('details', {}, h('summary', { text: `show ${m.details.length}` }), h('ul', {}, ...m.details.map((d) => h('li', { text: d })))),
        );
      }
      return p;
    }),
  );
}
