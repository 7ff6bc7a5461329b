/**
 * Hostile text in every view of the extension host: the safe-text helper and
 * the builders of what the explorer, the CodeLens, the hovers and the quick
 * picks show, fed bidi overrides, zero-width and control characters, markup,
 * command links, template syntax, astral characters and 2 MB lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  annotateLine,
  lensSpecs,
  renderHoverMarkdown,
  HIDDEN_MARK,
  SUMMARY_CHARS,
  type AnnotateContext,
} from '../../src/extension/services/annotate';
import { RunIndex } from '../../src/extension/services/runs/runIndex';
import { eventLine, syntheticGroup } from '../../src/extension/services/runs/syntheticRun';
import { scanRun } from '../../src/extension/services/runScan';
import { listTraces } from '../../src/extension/services/traceItems';
import { detectText } from '../../src/extension/services/detect';
import { dataFileItem, dataFilePick, problemItem, runItem, runPick, sampleItem, samplePick } from '../../src/extension/views/labels';
import { hasHiddenChars, hasRtl, inertSyntax, isolate, marker, revealHidden, safeBlock, safeLine } from '../../src/shared/safeText';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');
const RLO = '\u202E';

/** Every class of hostile text, by name. */
const HOSTILE: Record<string, string> = {
  bidi: `best ${RLO}000.0+ tseb\u202C \u2066x\u2069 \u202Ay\u202C \u200Fz \u061C`,
  zeroWidth: 'a\u200Bb\u200Cc\u200Dd\uFEFFe\u2060f\u00ADg',
  control: 'bell\u0007 esc\u001b[31mred\u001b[0m nul\u0000 c1\u0085\u009b del\u007f',
  markup: '<script>alert(1)</script><img src=x onerror="alert(2)"> &amp; **bold** # h',
  commandLink: '[run me](command:tracelift.runEval?%5B%5D) [x](https://evil.example) ![i](http://e/x.png) $(alert) <command:x>',
  template: '${process.env.HOME} {{constructor.constructor("alert(1)")()}} `${1+1}` %s %d',
  astral: '𝕏😀👩‍👩‍👧 math 𝑥² \u{1F600}'.repeat(3),
  lone: 'lone \uD800 high and \uDC00 low',
  rtl: 'שלום עולם 42 مرحبا',
};

/** Our own marks: FSI…PDI around RTL text, a zero-width space keeping `$(` and `](` inert. */
function withoutOwnMarks(s: string): string {
  return s.replace(/[\u2068\u2069]/g, '').replace(/(?<=[$\]])\u200B(?=\\?\()/g, '');
}

/** What every shown string must satisfy. */
function assertSafe(s: string, where: string, max = Infinity): void {
  const bare = withoutOwnMarks(s);
  assert.ok(!hasHiddenChars(bare.replace(/[\n\t]/g, ' ')), `${where}: no raw hidden character in ${JSON.stringify(s.slice(0, 200))}`);
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s), `${where}: no lone surrogate`);
  assert.ok(!/\$\(/.test(s), `${where}: no live $(icon)`);
  assert.ok(!/\]\(/.test(s), `${where}: no live [text](link)`);
  // FSI/PDI only as balanced pairs around the whole of what we isolated.
  assert.equal((s.match(/\u2068/g) ?? []).length, (s.match(/\u2069/g) ?? []).length, `${where}: isolates balanced`);
  assert.ok(s.length <= max + 2, `${where}: at most ${max} characters (got ${s.length})`);
}

test('safeLine: hidden characters become ⟨U+…⟩ markers, whitespace folds, the rest is kept', () => {
  assert.equal(safeLine(`abc${RLO}def`), 'abc⟨U+202E⟩def');
  assert.equal(safeLine('a\u200Bb'), 'a⟨U+200B⟩b');
  assert.equal(safeLine('a\u0007b\u0085c'), 'a⟨U+0007⟩b c', 'C0 revealed; NEL is a line break');
  assert.equal(safeLine('  a \n\t b  '), 'a b');
  assert.equal(safeLine('x\uD800y'), 'x⟨U+D800⟩y');
  assert.equal(safeLine('soft\u00ADhyphen'), 'soft⟨U+00AD⟩hyphen');
  assert.equal(safeLine('tag\u{E0041}'), 'tag⟨U+E0041⟩');
  assert.equal(safeLine(null), '');
  assert.equal(safeLine(42), '42');
  assert.equal(marker(0x202e), '⟨U+202E⟩');
  for (const [name, text] of Object.entries(HOSTILE)) assertSafe(safeLine(text, 500), `safeLine(${name})`, 500);
});

test('safeLine: RTL text is isolated, other text is not touched by isolation', () => {
  assert.equal(safeLine('שלום'), '\u2068שלום\u2069');
  assert.equal(safeLine('plain'), 'plain');
  assert.ok(hasRtl('مرحبا'));
  assert.equal(isolate('abc'), 'abc');
});

test('safeLine: icon and link syntax made inert, markup and templates kept as characters', () => {
  assert.equal(safeLine('$(alert)'), '$\u200B(alert)');
  assert.equal(safeLine('[x](command:a)'), '[x]\u200B(command:a)');
  assert.equal(inertSyntax('$x (y)'), '$x (y)');
  assert.equal(safeLine('<script>'), '<script>');
  assert.equal(safeLine('${a} {{b}}'), '${a} {{b}}');
});

test('safeLine: caps never split an astral character or a marker, and say so with …', () => {
  for (let max = 2; max < 40; max++) {
    const s = safeLine('😀'.repeat(30), max);
    assert.ok(s.length <= max, `max ${max}: ${s.length}`);
    assert.ok(s.endsWith('…'));
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(s), 'no half of a surrogate pair');
    const m = safeLine(`ab${RLO.repeat(20)}`, max);
    assert.ok(m.length <= max);
    assert.ok(!/⟨U\+[0-9A-F]*$|⟨U\+[0-9A-F]*…/.test(m), `max ${max}: no cut marker in ${m}`);
  }
  assert.equal(safeLine('abc', 3), 'abc', 'a text that fits is not cut');
});

test('2 MB lines: bounded output in linear time', () => {
  const big = [
    `${RLO}${'x'.repeat(2 << 20)}`,
    ' '.repeat(2 << 20) + 'y',
    '\u200B'.repeat(2 << 20),
    '😀'.repeat(1 << 20),
    'a\u0007'.repeat(1 << 20),
  ];
  for (const text of big) {
    const t0 = performance.now();
    const s = safeLine(text, 120);
    const ms = performance.now() - t0;
    assert.ok(s.length <= 122, `bounded (${s.length})`);
    assert.ok(ms < 500, `fast (${ms.toFixed(0)} ms)`);
    assertSafe(s, 'big line', 120);
    const t1 = performance.now();
    assert.equal(typeof hasHiddenChars(text), 'boolean');
    assert.ok(performance.now() - t1 < 500);
  }
  const block = safeBlock(`${'line\n'.repeat(1 << 18)}${RLO}`, 1 << 20);
  assert.ok(block.hidden);
  assert.ok(block.text.length <= (1 << 20) + 10);
});

test('blocks keep newlines and tabs, reveal the rest, and report whether anything was hidden', () => {
  assert.deepEqual(safeBlock('a\r\nb\tc'), { text: 'a\nb\tc', hidden: false });
  assert.deepEqual(safeBlock(`the answer is 18${RLO}`), { text: 'the answer is 18⟨U+202E⟩', hidden: true });
  assert.equal(revealHidden(`\u2067x\u2069`), '⟨U+2067⟩x⟨U+2069⟩');
  assert.equal(hasHiddenChars('plain\ttext\nwith breaks\r\n'), false);
  for (const [name, text] of Object.entries(HOSTILE)) {
    const b = safeBlock(text);
    assert.ok(!hasHiddenChars(b.text.replace(/[\n\t]/g, ' ')), `block(${name})`);
    assert.equal(b.hidden, name !== 'markup' && name !== 'commandLink' && name !== 'template' && name !== 'rtl', `flag for ${name}`);
  }
});

// ------------------------------------------------------------ view-model builders

function hostileRecord(text: string): string {
  const record = JSON.parse(fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!) as Record<string, unknown> & {
    positive_pool: Array<{ reasoning: string }>;
    negative_bank: Array<{ reasoning: string; negative_kind: string }>;
  };
  record.problem_id = `p-${text}`;
  record.problem = `Problem ${text}`;
  record.positive_pool[0]!.reasoning = `the answer is 18 ${text}`;
  record.negative_bank[0]!.negative_kind = `calc${text}`;
  record.negative_bank[1]!.reasoning = `${RLO}81 si rewsna eht`;
  return JSON.stringify(record);
}

const ctx = (kind: AnnotateContext['kind']): AnnotateContext => ({ kind, line: 0, unterminatedTail: false });

test('CodeLens: actions first, a summary of at most 60 characters, every title safe, hidden characters flagged', () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    const a = annotateLine(hostileRecord(text), ctx('groups'))!;
    const lenses = lensSpecs(a, { file: 'file', line: 0, runDir: '/runs' });
    assert.deepEqual(
      lenses.map((l) => l.command),
      ['tracelift.diffGroupVsReference', 'tracelift.measureUplift', ''],
      `${name}: actions first`,
    );
    const summary = lenses[2]!.title;
    assert.ok(summary.length <= SUMMARY_CHARS, `${name}: summary ${summary.length} chars`);
    assert.ok(summary.startsWith(HIDDEN_MARK), `${name}: the reversed negative is flagged (${summary})`);
    for (const l of lenses) assertSafe(l.title, `lens(${name})`);
    assertSafe(a.text!, `decoration(${name})`, 180);
    const md = renderHoverMarkdown(a.hover!);
    assertSafe(md, `hover(${name})`);
    assert.ok(!md.includes('](command'), `${name}: no command link`);
    assert.ok(!/(^|[^\\])</.test(md), `${name}: no raw HTML`);
    assert.ok(md.includes('hidden characters') || md.includes('invisible'), `${name}: the hover says why it is flagged`);
  }
  // A clean record is not flagged.
  const clean = annotateLine(fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!, ctx('groups'))!;
  assert.ok(!clean.summary!.includes(HIDDEN_MARK));
});

test('samples and events lines: hostile ids, labels and traces are shown safe and flagged', () => {
  const g = syntheticGroup(0, { samples: 2 });
  for (const [name, text] of Object.entries(HOSTILE)) {
    g.problem_id = `p${text}`;
    g.samples[0]!.sample_id = `s${text}`;
    g.samples[0]!.label = `label ${text}`;
    g.samples[0]!.trace = `${RLO}81 si rewsna eht ${text}`;
    const a = annotateLine(JSON.stringify(g), ctx('events'))!;
    assertSafe(a.text!, `event decoration(${name})`, 180);
    assert.ok(a.text!.includes(HIDDEN_MARK), `${name}: flagged`);
    const lenses = lensSpecs(a, { file: 'f', line: 0, runDir: '/r' });
    assert.equal(lenses[0]!.command, 'tracelift.inspectSample');
    for (const l of lenses) assertSafe(l.title, `event lens(${name})`, SUMMARY_CHARS);
    assertSafe(renderHoverMarkdown(a.hover!), `event hover(${name})`);
  }
});

test('explorer items and quick picks: run, problem, sample and data file built from hostile text are safe', () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    const g = syntheticGroup(0, { samples: 2 });
    g.problem_id = `${RLO}p ${text}`;
    g.task = `task${text}`;
    g.samples[0]!.sample_id = `${g.problem_id}#s${text}`;
    g.samples[0]!.label = `lbl ${text}`;
    g.samples[0]!.trace = `${text} trace`;
    const idx = new RunIndex('/nowhere');
    idx.ingest(Buffer.from(eventLine(g)), 0);
    const problem = idx.problems()[0]!;
    const row = problem.samples[0]!;
    const items = [problemItem(problem), sampleItem(row)];
    for (const it of items) {
      assertSafe(it.label, `label(${name})`, 80);
      assertSafe(it.description, `description(${name})`);
      assertSafe(renderHoverMarkdown(it.tooltip), `tooltip(${name})`);
    }
    assert.ok(problemItem(problem).description.includes(HIDDEN_MARK), `${name}: the problem row is flagged`);
    assert.ok(sampleItem(row).description.includes(HIDDEN_MARK), `${name}: the sample row is flagged`);
    const pick = samplePick(row);
    for (const s of [pick.label, pick.description, pick.detail]) assertSafe(s, `sample pick(${name})`);
  }
  // "best +0.000 · base 0% · 4 traces" reads the same whatever the problem id holds.
  const g = syntheticGroup(0, { samples: 2 });
  g.problem_id = `${RLO}evil`;
  const idx = new RunIndex('/nowhere');
  idx.ingest(Buffer.from(eventLine(g)), 0);
  const desc = problemItem(idx.problems()[0]!).description;
  assert.match(desc, /^2 traces · base \d+% · best [+−]\d\.\d{3} · ⚠ hidden chars$/);
});

test('runs and data files named with hostile text', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-safe-'));
  const dir = path.join(root, `run-${RLO}lave`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ task: `gsm8k${RLO}$(x)`, split: 'test' }));
  const run = scanRun(dir);
  const item = runItem(run);
  assert.equal(item.label, 'run-⟨U+202E⟩lave');
  assertSafe(item.description, 'run description');
  assertSafe(renderHoverMarkdown(item.tooltip), 'run tooltip');
  const pick = runPick(run);
  assertSafe(pick.description, 'run pick');
  assertSafe(pick.detail, 'run pick detail');
  const file = path.join(dir, `g${RLO}.groups.jsonl`);
  const text = `${hostileRecord(`${HOSTILE.bidi} ${HOSTILE.commandLink}`)}\n{"broken": "[x](command:y) ${RLO}"}\n`;
  fs.writeFileSync(file, text);
  const d = detectText(text, file, { capped: false });
  const entry = { fsPath: file, rel: path.relative(root, file) };
  const fileItem = dataFileItem(entry, d);
  for (const s of [fileItem.label, fileItem.description, renderHoverMarkdown(fileItem.tooltip)]) assertSafe(s, 'data file item');
  const fp = dataFilePick(entry, d);
  for (const s of [fp.label, fp.description, fp.detail]) assertSafe(s, 'data file pick');
  // Diff Two Traces' picks over the same file.
  const traces = listTraces(text, 'groups');
  assert.ok(traces.items.length > 2);
  for (const t of traces.items) for (const s of [t.label, t.description]) assertSafe(s, 'trace pick');
  assert.ok(
    traces.items.some((t) => t.title.includes(RLO)),
    'the raw title goes to the webview, which reveals it itself',
  );
});
