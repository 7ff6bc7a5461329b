import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GroupRecordSchema } from '../../src/engine/contract/groups';
import { diffSegments, groupRecordPairs, sidesOf } from '../../src/extension/views/webviews/diffSegments';
import {
  buildMessageHtml,
  buildWebviewHtml,
  contentSecurityPolicy,
  escapeHtml,
  makeNonce,
  safeDocName,
} from '../../src/extension/views/webviews/html';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');

test('word-level segments: eq+del spell the left text, eq+ins the right, changes are whole words', () => {
  const left = 'Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18.';
  const right = 'Janet sells 19 - 6 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18.';
  const d = diffSegments(left, right);
  assert.equal(d.granularity, 'word');
  assert.deepEqual(sidesOf(d.segments), { left, right });
  assert.deepEqual(
    d.segments.filter((s) => s.op !== 'eq').map((s) => [s.op, s.text]),
    [
      ['del', '16'],
      ['ins', '19'],
      ['del', '3'],
      ['ins', '6'],
    ],
  );
  assert.equal(d.stats.deleted, 3);
  assert.equal(d.stats.inserted, 3);
  // Adjacent segments of one kind are merged.
  for (let i = 1; i < d.segments.length; i++) assert.notEqual(d.segments[i]!.op, d.segments[i - 1]!.op);
});

test('markup in a trace stays characters in the segments (the webview makes text nodes of them)', () => {
  const evil = `<img src=x onerror="alert(1)"><script>alert('x')</script> &amp; "quoted"`;
  const d = diffSegments('plain reasoning', evil);
  assert.equal(sidesOf(d.segments).right, evil);
  assert.ok(d.segments.some((s) => s.text.includes('<script>')));
});

test('identical and empty texts, and a diff too slow at word level falls back to lines', () => {
  assert.deepEqual(diffSegments('same', 'same').segments, [{ op: 'eq', text: 'same' }]);
  assert.deepEqual(diffSegments('', '').segments, []);
  assert.deepEqual(diffSegments('', 'new').segments, [{ op: 'ins', text: 'new' }]);
  const words = (seed: number) => Array.from({ length: 4000 }, (_, i) => `w${(i * seed) % 997}`).join(' ');
  const d = diffSegments(words(7), words(13), { timeoutMs: 1 });
  assert.ok(d.granularity === 'line' || d.granularity === 'word');
  assert.deepEqual(sidesOf(d.segments), { left: words(7), right: words(13) });
});

test('a TraceLift-Groups record becomes reference-vs-negative pairs labelled with negative_kind and rubric', () => {
  const record = GroupRecordSchema.parse(JSON.parse(fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!));
  const { view, texts } = groupRecordPairs(record, 'fixture:1');
  assert.equal(view.pairs.length, record.negative_bank.length + record.positive_pool.length - 1);
  assert.deepEqual(
    view.pairs.map((p) => p.kind),
    record.negative_bank.map((n) => n.negative_kind),
  );
  for (const [i, p] of view.pairs.entries()) {
    assert.equal(sidesOf(p.segments).left, record.positive_pool[0]!.reasoning);
    assert.equal(sidesOf(p.segments).right, record.negative_bank[i]!.reasoning);
    assert.equal(texts[i]!.right.text, record.negative_bank[i]!.reasoning);
    assert.equal(p.rubricTotal, record.negative_bank[i]!.rubric!.total);
    assert.equal(p.rubric.length, 5);
  }
  assert.match(view.subtitle, /3 negative\(s\), 1 positive\(s\)/);
  const noRef = groupRecordPairs({ ...record, positive_pool: [] }, 'x');
  assert.equal(noRef.view.pairs.length, 0);
  assert.match(noRef.view.subtitle, /no positive_pool\[0\]/);
});

test('the webview shell: strict CSP with a fresh nonce, one script with that nonce, no data in the markup', () => {
  const a = makeNonce();
  const b = makeNonce();
  assert.notEqual(a, b);
  assert.ok(a.length >= 24);
  const csp = contentSecurityPolicy('vscode-webview://abc', a);
  assert.equal(
    csp,
    `default-src 'none'; script-src 'nonce-${a}'; style-src vscode-webview://abc 'nonce-${a}'; img-src vscode-webview://abc; font-src vscode-webview://abc`,
  );
  const html = buildWebviewHtml({
    view: 'runView',
    cspSource: 'vscode-webview://abc',
    nonce: a,
    scriptUri: 'https://x/dist/webview/runView.js',
    styleUri: 'https://x/media/webview.css',
    title: 'TraceLift run',
  });
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.ok(html.includes(`<script nonce="${a}" src="https://x/dist/webview/runView.js"></script>`));
  assert.ok(html.includes(`content="${csp.replace(/'/g, '&#39;')}"`));
  assert.ok(!/\son\w+=/.test(html), 'no inline handlers');
  assert.ok(!/style=/.test(html), 'no inline styles');
});

test('string-building helpers escape markup', () => {
  assert.equal(escapeHtml(`<script>alert("x")</script>&'`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  const html = buildWebviewHtml({
    view: 'runView',
    cspSource: 'a',
    nonce: 'n',
    scriptUri: '"><script>alert(1)</script>',
    styleUri: 's',
    title: '<b>t</b>',
  });
  assert.ok(!html.includes('<script>alert(1)'));
  assert.ok(!html.includes('<b>t</b>'));
  const msg = buildMessageHtml('a', 's', '<img src=x onerror=alert(1)>');
  assert.ok(msg.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(!msg.includes('<script'));
  assert.equal(safeDocName('../../etc/passwd <x>'), '.._.._etc_passwd _x_');
  assert.equal(safeDocName('\u0000\n'), '_');
  assert.equal(safeDocName('   '), 'trace');
  assert.ok(safeDocName('x'.repeat(500)).length <= 80);
});
