/**
 * Starts the real Python math-verify worker (needs `<repo>/.venv` with
 * math-verify, or TRACELIFT_PYTHON). Skipped, with a note, when no
 * interpreter exists at all; fails when one exists without math-verify.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  MathVerifier,
  MathVerifyUnavailableError,
  MathVerifyWorker,
  findRepoRoot,
  resolvePython,
} from '../../src/engine/verify/math/index';
import { runVerifyMath } from '../../src/cli/verifyMath';

const python = resolvePython();
const havepython = existsSync(python);
const skip = havepython ? false : `no python at ${python} (run the README set-up)`;

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('MathVerifyWorker (real python)', { skip }, () => {
  let worker: MathVerifyWorker;
  before(() => {
    worker = new MathVerifyWorker();
  });
  after(async () => {
    await worker.close();
  });

  const equivalent: [string, string][] = [
    ['The answer is $0.5$', '\\frac{1}{2}'],
    ['So we get \\boxed{\\frac{1}{2}}.', '0.5'],
    ['\\boxed{\\frac34}', '\\dfrac{3}{4}'],
    ['The polar coordinates are $\\boxed{(3, \\frac{\\pi}{2})}$.', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['\\boxed{\\frac{\\sqrt2}{2}}', '\\sqrt{2}/2'],
    ['\\boxed{\\sqrt{2}/2}', '\\frac{\\sqrt{2}}{2}'],
    ['The solution set is $\\boxed{[2, 5)}$', '[2,5)'],
    ['\\boxed{(-\\infty, 3] \\cup [4, \\infty)}', '(-\\infty,3]\\cup[4,\\infty)'],
    ['the angle is \\boxed{30^\\circ}', '30^\\circ'],
    ['\\boxed{\\text{Evelyn}}', '\\text{Evelyn}'],
    ['The answer is (C).', '\\text{(C)}'],
    ['\\boxed{\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}}', '\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}'],
    ['\\boxed{x^2 + 2x + 1}', '(x+1)^2'],
    ['\\boxed{2\\sqrt{3}}', '\\sqrt{12}'],
    ['Some work... 6 + 4 = 10. Final answer: \\boxed{10}', '10'],
    ['\\boxed{1,2,3}', '1, 2, 3'],
    // bare LaTeX, as an executor told to give "only the final answer" writes it
    ['\\pi', '\\pi'],
    ['2\\pi', '2\\pi'],
    ['11\\sqrt2', '11\\sqrt{2}'],
    ['\\frac{1}{\\sqrt{3}}', '\\frac{\\sqrt{3}}{3}'],
    ['\\dfrac{\\pi}{3}', '\\frac{\\pi}{3}'],
    ['(-\\infty, 0] \\cup [2, \\infty)', '(-\\infty,0]\\cup[2,\\infty)'],
    ['\\infty', '\\infty'],
    ['\\text{even}', '\\text{even}'],
    ['even', '\\text{even}'],
    ['\\text{(C)}', '\\text{(C)}'],
    ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3, \\frac{\\pi}{2})'],
    ['6 - 5i', '6-5i'],
    ['\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', '\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}'],
    ['\\$18.90', '\\$18.90'],
    ['18.90', '\\$18.90'],
    ['The answer is \\frac{\\pi}{3}', '\\dfrac{\\pi}{3}'],
    ['Final answer: 11\\sqrt2', '11\\sqrt{2}'],
    ['It costs \\$18.90 in total', '\\$18.90'],
    ['4210_5', '4210_{5}'],
    // a set answer may be written with "or"
    ['x = 3 or x = 4', '3, 4'],
    ['3, 4', '3, 4'],
  ];
  for (const [prediction, reference] of equivalent) {
    it(`${prediction.slice(0, 50)} ≡ ${reference}`, async () => {
      const r = await worker.verify(prediction, reference);
      assert.equal(r.correct, true, JSON.stringify(r));
      assert.equal(r.error, null);
    });
  }

  const wrong: [string, string][] = [
    ['\\boxed{\\frac{1}{3}}', '\\frac{1}{2}'],
    ['\\boxed{(3, \\pi)}', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['\\boxed{(2, 5]}', '[2,5)'],
    ['\\boxed{\\sqrt{3}/2}', '\\frac{\\sqrt{2}}{2}'],
    ['\\boxed{\\text{Bob}}', '\\text{Evelyn}'],
    ['\\boxed{x^2 + 1}', '(x+1)^2'],
    ['I have no idea.', '7'],
    ['', '7'],
    // a bare answer is read whole, not for its first or last number
    ['11\\sqrt2', '11'],
    ['2\\pi', '2'],
    ['(-\\infty, 0]', '0'],
    ['4210_6', '4210_{5}'],
    ['\\text{(D)}', '\\text{(C)}'],
    ['odd', '\\text{even}'],
    ['[2, 5)', '(2, 5]'],
    ['(5, 2]', '(2, 5]'],
  ];
  for (const [prediction, reference] of wrong) {
    it(`${prediction.slice(0, 50) || '(empty)'} ≢ ${reference}`, async () => {
      const r = await worker.verify(prediction, reference);
      assert.equal(r.correct, false, JSON.stringify(r));
    });
  }

  const hedged: [string, string][] = [
    ['18 or 19', '19'],
    ['either 3 or 4', '3'],
    ['3 or 4', '4'],
    ['x=3 or x=4', '3'],
    ['The answer is 18 or 19.', '18'],
    ['Final answer: $18$ or $19$', '19'],
    ['\\boxed{3 \\text{ or } 4}', '3'],
    ['It is $\\frac{1}{2}$ or maybe $\\frac{1}{3}$.', '\\frac13'],
    ['It could be 18 or 19.', '19'],
    ['(B) or (C)', '\\text{(C)}'],
  ];
  for (const [prediction, reference] of hedged) {
    it(`hedge ${prediction} is not ${reference}`, async () => {
      const r = await worker.verify(prediction, reference);
      assert.equal(r.correct, false, JSON.stringify(r));
      assert.equal(r.hedged, true, JSON.stringify(r));
    });
  }

  it('survives garbage input and keeps answering', async () => {
    const garbage = [
      ['}}}{{{\\frac{', '\\frac{1}{2}'],
      ['\\boxed{', '1'],
      ['\u0000\u0001\ud800 broken surrogate', '1'],
      ['$$$$\\\\\\\\', '$$'],
      ['\\begin{pmatrix}', '\\begin{pmatrix} 1 \\end{pmatrix}'],
      ['x'.repeat(200_000), '1'],
      ['1', '\\frac{'],
      ['1', '   '],
    ] as const;
    const results = await Promise.all(garbage.map(([p, r]) => worker.verify(p, r)));
    for (const r of results) {
      assert.equal(r.correct, false);
      assert.equal(typeof r.correct, 'boolean');
    }
    assert.equal((await worker.verify('\\boxed{4}', '4')).correct, true);
  });

  it('multiplexes 50 concurrent calls', async () => {
    const calls = Array.from({ length: 50 }, (_, i) => {
      const truth = i % 3 !== 0;
      const prediction = `step ${i}... so the answer is $\\boxed{\\frac{${i + 1}}{${i + 2}}}$`;
      const reference = truth ? `\\dfrac{${2 * (i + 1)}}{${2 * (i + 2)}}` : `\\frac{${i + 2}}{${i + 3}}`;
      return { truth, p: worker.verify(prediction, reference) };
    });
    const results = await Promise.all(calls.map((c) => c.p));
    results.forEach((r, i) => assert.equal(r.correct, calls[i]!.truth, `call ${i}: ${JSON.stringify(r)}`));
  });

  it('restarts a worker that died and answers the pending calls', async () => {
    await worker.verify('1', '1'); // make sure it runs
    const pid = worker.pid;
    assert.ok(pid);
    const pending = Array.from({ length: 10 }, (_, i) => worker.verify(`\\boxed{${i}}`, String(i)));
    process.kill(pid, 'SIGKILL');
    const results = await Promise.all(pending);
    assert.ok(
      results.every((r) => r.correct),
      JSON.stringify(results),
    );
    assert.notEqual(worker.pid, pid);
  });
});

describe('MathVerifyWorker failure modes (real python)', { skip }, () => {
  it('times out a stuck item, restarts, and answers the rest', async () => {
    // 10^{10^{10^{10}}} keeps math-verify busy for its full 5 s comparison timeout.
    const w = new MathVerifyWorker({ itemTimeoutMs: 1500 });
    try {
      const slow = w.verify('\\boxed{10^{10^{10^{10}}}}', '1');
      const next = w.verify('\\boxed{\\frac{2}{4}}', '\\frac12');
      const r1 = await slow;
      assert.equal(r1.correct, false);
      assert.match(r1.error ?? '', /no answer within 1500 ms/);
      const r2 = await next;
      assert.equal(r2.correct, true, JSON.stringify(r2));
    } finally {
      await w.close();
    }
  });

  it('rejects with a set-up hint when math-verify cannot be imported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-mv-'));
    const fake = join(dir, 'python-no-site');
    // -S: no site-packages, so math_verify is not importable
    writeFileSync(fake, `#!/bin/sh\nexec "${python}" -S "$@"\n`);
    chmodSync(fake, 0o755);
    const w = new MathVerifyWorker({ pythonPath: fake });
    try {
      await assert.rejects(
        Promise.all([w.verify('\\boxed{1}', '1'), w.verify('\\boxed{2}', '2')]),
        (err: Error) => err instanceof MathVerifyUnavailableError && /README set-up/.test(err.message) && /math-verify/.test(err.message),
      );
      // later calls fail fast with the same error
      await assert.rejects(w.verify('1', '1'), MathVerifyUnavailableError);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an item the worker crashes on twice is answered with an error, never as correct', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-mv-'));
    const fake = join(dir, 'python-crashes');
    writeFileSync(fake, '#!/bin/sh\nread line\nexit 1\n');
    chmodSync(fake, 0o755);
    const w = new MathVerifyWorker({ pythonPath: fake });
    try {
      const r = await w.verify('\\boxed{1}', '1');
      assert.equal(r.correct, false);
      assert.match(r.error ?? '', /crashed on this item/);
    } finally {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an answer that carries an error is never correct', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-mv-'));
    const fake = join(dir, 'python-contradicts');
    writeFileSync(
      fake,
      '#!/bin/sh\nwhile read line; do echo \'{"id": "1", "correct": true, "extracted": "1", "error": "math-verify timeout during parsing"}\'; done\n',
    );
    chmodSync(fake, 0o755);
    const v = new MathVerifier({ pythonPath: fake });
    try {
      const [r] = await v.verify([{ prediction: '\\boxed{1}', reference: '1', task: 'math500' }]);
      assert.deepEqual(r, { correct: false, extracted: '1', error: 'math-verify timeout during parsing' });
    } finally {
      await v.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects with a set-up hint when the interpreter is missing', async () => {
    const w = new MathVerifyWorker({ pythonPath: '/nonexistent/bin/python' });
    await assert.rejects(w.verify('1', '1'), /Python interpreter not found.*README set-up/);
    await w.close();
  });
});

describe('MATH500 self-consistency: answer vs own solution', { skip }, () => {
  it("verifies every row's answer against its \\boxed{} solution", async () => {
    const file = join(findRepoRoot(), '..', 'shared', 'data', 'math500', 'test.jsonl');
    if (!existsSync(file)) return;
    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { solution: string; answer: string; unique_id: string });
    const verifier = new MathVerifier();
    try {
      const res = await verifier.verify(rows.map((r) => ({ prediction: r.solution, reference: r.answer, task: 'math500' })));
      const failures: string[] = [];
      rows.forEach((r, i) => {
        const v = res[i]!;
        if (!v.correct) failures.push(`${r.unique_id}: ${r.answer} -> ${v.extracted ?? 'null'} (${v.error ?? ''})`);
      });
      const rate = 1 - failures.length / rows.length;
      console.log(`MATH500 self-consistency: ${(rate * 100).toFixed(1)}% (${rows.length - failures.length}/${rows.length})`);
      for (const f of failures) console.log(`  FAIL ${f}`);
      assert.deepEqual(failures, [], `rate ${rate}`);
    } finally {
      await verifier.close();
    }
  });
});

describe('tracelift verify math (runVerifyMath)', { skip }, () => {
  it('checks mixed numeric and LaTeX lines, reports malformed ones, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-vm-'));
    const file = join(dir, 'in.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'a', prediction: 'The answer is 18 dollars.', reference: '18', task: 'gsm8k' }),
        '',
        JSON.stringify({ id: 'b', prediction: '\\boxed{\\frac{1}{2}}', reference: '0.5', task: 'math500' }),
        JSON.stringify({ id: 'c', prediction: 5, reference: '5' }),
        '{not json',
        JSON.stringify({ id: 4, prediction: '\\boxed{\\dfrac34}', reference: '\\frac{3}{4}' }),
        JSON.stringify({ id: 'e', prediction: '#### 7', reference: 8 }),
      ].join('\n') + '\n',
    );
    const out = new Collect();
    const err = new Collect();
    try {
      const code = await runVerifyMath(file, {}, out, err);
      assert.equal(code, 1);
      const rows = out.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        rows.map((r) => [r.id, r.correct]),
        [
          ['a', true],
          ['b', true],
          [4, true],
          ['e', false],
        ],
      );
      assert.equal(rows[0]!.extracted, '18');
      assert.match(err.text, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: field "prediction"`));
      assert.match(err.text, /:5: invalid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exit 2 and a set-up message when python is missing for LaTeX lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-vm-'));
    const file = join(dir, 'in.jsonl');
    writeFileSync(
      file,
      JSON.stringify({ id: 1, prediction: '\\boxed{1}', reference: '\\frac{2}{2}', task: 'math500' }) +
        '\n' +
        JSON.stringify({ id: 2, prediction: '3', reference: '3', task: 'svamp' }) +
        '\n',
    );
    const out = new Collect();
    const err = new Collect();
    try {
      const code = await runVerifyMath(file, { python: '/nonexistent/python' }, out, err);
      assert.equal(code, 2);
      const rows = out.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.correct, false);
      assert.equal(rows[1]!.correct, true);
      assert.match(err.text, /README set-up/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
