/**
 * MATH500 self-check on the published file (data dir: --data-dir, $TRACELIFT_DATA_DIR
 * or ../shared/data beside the repository), through the real math-verify worker:
 *  - every gold answer given back as the prediction is accepted, written bare,
 *    in \boxed{}, in $…$, in \(…\), and after "The answer is" / "Final answer:";
 *  - a held-out style negative set built from the golds (another problem's gold,
 *    off-by-one numbers, sign flips, swapped interval ends and brackets, another
 *    letter choice, hedges such as "g or o") is rejected, every case named.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { MathVerifier, resolvePython, type MathVerdict } from '../../src/engine/verify/math/index';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';

const python = resolvePython();
let golds: string[] = [];
let skip: string | false = existsSync(python) ? false : `no python at ${python} (run the README set-up)`;
if (!skip) {
  try {
    golds = getTask('math500')
      .load(resolveDataDir(), 'test')
      .map((p) => (p.kind === 'math' ? p.answer : ''));
  } catch (e) {
    skip = `MATH500 data not found: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const FORMS: Record<string, (answer: string) => string> = {
  bare: (a) => a,
  boxed: (a) => `\\boxed{${a}}`,
  dollar: (a) => `$${a}$`,
  paren: (a) => `\\(${a}\\)`,
  answerIs: (a) => `The answer is ${a}`,
  finalAnswer: (a) => `Final answer: ${a}`,
  reasoningThenBare: (a) => `We simplify step by step and check the result.\n\n${a}`,
};

/** Whitespace, \left/\right, thin spaces and \dfrac do not make a different answer. */
function sameWriting(a: string, b: string): boolean {
  const norm = (s: string): string =>
    s
      .replace(/\\left|\\right|\\[!,;: ]/g, '')
      .replace(/\\[dt]frac/g, '\\frac')
      .replace(/\s+/g, '');
  return norm(a) === norm(b);
}

interface Case {
  kind: string;
  prediction: string;
  reference: string;
}

/** Splits "a, b" at its one top-level comma, or null. */
function splitPair(inner: string): [string, string] | null {
  let depth = 0;
  let at = -1;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0 && inner[i - 1] !== '\\') {
      if (at >= 0) return null;
      at = i;
    }
  }
  return at < 0 ? null : [inner.slice(0, at).trim(), inner.slice(at + 1).trim()];
}

/** Wrong answers made from the golds; none of them may be accepted. */
function negativeCases(all: readonly string[]): Case[] {
  const out: Case[] = [];
  const add = (kind: string, prediction: string, reference: string, forms = ['bare', 'boxed', 'dollar']): void => {
    if (sameWriting(prediction, reference)) return;
    for (const f of forms) out.push({ kind: `${kind}/${f}`, prediction: FORMS[f]!(prediction), reference });
  };
  all.forEach((g, i) => {
    // another problem's gold (the next one written differently)
    let j = (i + 7) % all.length;
    while (sameWriting(all[j]!, g)) j = (j + 1) % all.length;
    const other = all[j]!;
    add('other-gold', other, g);

    // off by one: the first and the last integer (not a unit's exponent such as \mbox{ cm}^2)
    const runs = [...g.matchAll(/\d+/g)].filter((m) => !/\}\^$/.test(g.slice(0, m.index)));
    for (const m of new Set([runs[0], runs[runs.length - 1]])) {
      if (!m) continue;
      const n = Number(m[0]);
      const at = m.index;
      add('off-by-one', g.slice(0, at) + String(n + 1) + g.slice(at + m[0].length), g);
      if (n > 0) add('off-by-one', g.slice(0, at) + String(n - 1) + g.slice(at + m[0].length), g);
    }

    // sign flip of a single value
    if (
      !/[,=\\[\]{}()]|\\in|\\cup|\\text|\\begin|\\pm/.test(g.replace(/\\(?:frac|sqrt|pi|dfrac)\{[^{}]*\}(\{[^{}]*\})?|\\pi/g, '1')) &&
      !/^0$/.test(g.trim())
    ) {
      add('sign-flip', g.trim().startsWith('-') ? g.trim().slice(1) : `-${g.trim()}`, g);
    }

    // intervals and pairs: swapped ends; a bracket flipped at a finite end
    const pair = /^\s*(?:\\left)?\s*([[(])(.*?)(?:\\right)?\s*([\])])\s*$/.exec(g);
    const parts = pair ? splitPair(pair[2]!) : null;
    if (pair && parts && !g.includes('\\cup')) {
      const [lb, rb] = [pair[1]!, pair[3]!];
      const [a, b] = parts;
      if (!sameWriting(a, b)) add('swapped-ends', `${lb}${b}, ${a}${rb}`, g);
      const interval = lb !== rb.replace(')', '(').replace(']', '[') || g.includes('\\infty');
      if (interval) {
        const flip = (c: string): string => ({ '(': '[', '[': '(', ')': ']', ']': ')' })[c]!;
        if (!a.includes('\\infty')) add('flipped-bracket', `${flip(lb)}${a}, ${b}${rb}`, g);
        if (!b.includes('\\infty')) add('flipped-bracket', `${lb}${a}, ${b}${flip(rb)}`, g);
      }
    }
    if (g.includes('\\cup')) add('flipped-bracket', g.replace(/(\d)\s*\)/, '$1]'), g);

    // another letter choice
    const letter = /^\\text\{\(([A-E])\)\}$/.exec(g.trim());
    if (letter) {
      for (const l of 'ABCDE') {
        if (l === letter[1]) continue;
        add('other-letter', `\\text{(${l})}`, g);
        add('other-letter', `(${l})`, g, ['bare', 'answerIs']);
      }
    }

    // hedges: the gold offered next to another answer
    add('hedge', `${g} or ${other}`, g, ['bare', 'answerIs', 'finalAnswer']);
    add('hedge', `either ${other} or ${g}`, g, ['bare']);
    add('hedge', `${g} \\text{ or } ${other}`, g, ['boxed', 'dollar']);
    out.push({ kind: 'hedge/dollars', prediction: `$${other}$ or $${g}$`, reference: g });
    out.push({ kind: 'hedge/prose', prediction: `It is $${g}$ or maybe $${other}$.`, reference: g });
    if (/^-?\d+$/.test(g.trim())) {
      add('hedge', `x = ${g} or x = ${Number(g) + 1}`, g, ['bare', 'dollar']);
      out.push({ kind: 'hedge/prose-numbers', prediction: `It could be ${g} or ${Number(g) + 1}.`, reference: g });
    }
  });
  return out;
}

describe('MATH500 gold answers as predictions (real math-verify)', { skip }, () => {
  let verifier: MathVerifier;
  before(() => {
    verifier = new MathVerifier({ workers: 2 });
  });
  after(async () => {
    await verifier.close();
  });

  const check = (cases: Case[]): Promise<MathVerdict[]> =>
    verifier.verify(cases.map((c) => ({ prediction: c.prediction, reference: c.reference, task: 'math500' })));

  it('has the 500 published answers', () => {
    assert.equal(golds.length, 500);
  });

  for (const [form, write] of Object.entries(FORMS)) {
    it(`accepts 500/500 written ${form}`, async () => {
      const cases = golds.map((g) => ({ kind: form, prediction: write(g), reference: g }));
      const verdicts = await check(cases);
      const failures = cases
        .map((c, i) => ({ c, v: verdicts[i]! }))
        .filter(({ v }) => !v.correct)
        .map(({ c, v }) => `${c.prediction} (${JSON.stringify(v)})`);
      console.log(`MATH500 self-check, ${form}: ${cases.length - failures.length}/${cases.length}`);
      assert.deepEqual(failures, []);
    });
  }

  it('rejects every wrong answer of the negative set', async () => {
    const cases = negativeCases(golds);
    const verdicts = await check(cases);
    const byKind = new Map<string, number>();
    for (const c of cases) {
      const k = c.kind.split('/')[0]!;
      byKind.set(k, (byKind.get(k) ?? 0) + 1);
    }
    const falseAccepts = cases
      .map((c, i) => ({ c, v: verdicts[i]! }))
      .filter(({ v }) => v.correct)
      .map(({ c, v }) => `${c.kind}: ${JSON.stringify(c.prediction)} accepted for ${JSON.stringify(c.reference)} (read ${v.extracted})`);
    const acceptedByKind = new Map<string, number>();
    cases.forEach((c, i) => {
      const k = c.kind.split('/')[0]!;
      if (verdicts[i]!.correct) acceptedByKind.set(k, (acceptedByKind.get(k) ?? 0) + 1);
    });
    console.log(
      `MATH500 negative set: ${falseAccepts.length} false accepts of ${cases.length} ` +
        `(${[...byKind].map(([k, n]) => `${k} ${acceptedByKind.get(k) ?? 0}/${n}`).join(', ')})`,
    );
    assert.ok(cases.length > 5000, `negative set too small: ${cases.length}`);
    assert.deepEqual(falseAccepts, []);
    // Hedges against a single-valued gold are reported as such, not just as wrong.
    const hedgedSingle = cases
      .map((c, i) => ({ c, v: verdicts[i]! }))
      .filter(({ c }) => c.kind === 'hedge/bare' && /^-?\d+$/.test(c.reference.trim()));
    assert.ok(hedgedSingle.length > 50);
    for (const { c, v } of hedgedSingle) assert.equal(v.hedged, true, c.prediction);
  });
});
