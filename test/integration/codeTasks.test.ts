/**
 * The code task modules against the real data and the real sandbox: every
 * HumanEval canonical solution and every MBPP reference passes its own
 * tests; EvalPlus samples (expected outputs computed from the canonical
 * solution in the sandbox) pass; LiveCodeBench and CodeContests load and
 * grade hand-written solutions. Any dataset row whose own reference fails is
 * listed in the test output (t.diagnostic) with the reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProblemSchema, type CodeProblem, type Problem } from '../../src/engine/contract';
import { CodeVerifier } from '../../src/engine/verify/code/verifier';
import { CODE_TASKS, codeContests, humaneval, humanevalplus, livecodebench, mbpp, mbppplus } from '../../src/engine/tasks/code';

const SKIP = process.env.TRACELIFT_SKIP_SANDBOX_TESTS === '1';
const DATA = process.env.TRACELIFT_DATA_DIR ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
const HAVE_DATA = fs.existsSync(path.join(DATA, 'humaneval', 'HumanEval.jsonl.gz'));

let v: CodeVerifier;
let cacheDir: string;

const code = (ps: Problem[]) => ps as CodeProblem[];

async function referencesPass(problems: CodeProblem[], t: { diagnostic: (m: string) => void }): Promise<string[]> {
  const withRef = problems.filter((p) => p.reference_solution !== null);
  const verdicts = await v.verifyBatch(withRef.map((p) => ({ program: p.reference_solution!, tests: p.tests })));
  const failing: string[] = [];
  verdicts.forEach((verdict, i) => {
    if (!verdict.passed) {
      const line = `${withRef[i]!.task}/${withRef[i]!.id}: ${verdict.status} ${verdict.tests_passed}/${verdict.tests_total} — ${verdict.message ?? ''}`;
      failing.push(line);
      t.diagnostic(`reference fails: ${line}`);
    }
  });
  return failing;
}

describe('code tasks on the published data', { skip: SKIP || !HAVE_DATA }, () => {
  before(async () => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-expected-'));
    v = new CodeVerifier({ expectedCacheDir: cacheDir });
    await v.ready();
  });
  after(async () => {
    await v.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  test('every code task and split loads and matches the Problem schema', () => {
    const counts: Record<string, number> = {};
    for (const task of CODE_TASKS) {
      for (const split of task.splits) {
        const problems = task.load(DATA, split);
        assert.ok(problems.length > 0, `${task.name}/${split} is empty`);
        for (const p of problems) ProblemSchema.parse(p);
        counts[`${task.name}/${split}`] = problems.length;
      }
    }
    assert.equal(counts['humaneval/test'], 164);
    assert.equal(counts['humanevalplus/test'], 164);
    assert.equal(counts['mbppplus/test'], 378);
    assert.equal(counts['mbpp/test'], 500);
    assert.equal(counts['mbpp/train'], 374);
    assert.equal(counts['mbpp/validation'], 90);
    assert.equal(counts['mbpp/prompt'], 10);
    assert.equal(counts['mbpp/sanitized'], 427);
    assert.equal(counts['livecodebench/test'], 342);
    assert.equal(counts['livecodebench/rllm'], 879);
    assert.equal(counts['code_contests/test'], 165);
    const lcb = code(livecodebench.load(DATA, 'test'));
    assert.equal(lcb.filter((p) => p.tests.kind === 'stdio').length, 217);
    assert.equal(lcb.filter((p) => p.tests.kind === 'functional').length, 125);
  });

  test('HumanEval: all 164 canonical solutions (prompt + canonical_solution) pass', async (t) => {
    const failing = await referencesPass(code(humaneval.load(DATA, 'test')), t);
    assert.deepEqual(failing, []);
  });

  test('HumanEval: a broken solution fails', async () => {
    const [p] = code(humaneval.load(DATA, 'test'));
    const verdict = await v.verify(`${p!.starter_code}    return None\n`, p!.tests);
    assert.equal(verdict.passed, false);
  });

  test('MBPP: every reference (974 rows of mbpp.jsonl) passes its test_list', async (t) => {
    const all = ['prompt', 'test', 'validation', 'train'].flatMap((s) => code(mbpp.load(DATA, s)));
    assert.equal(all.length, 974);
    const failing = await referencesPass(all, t);
    assert.deepEqual(failing, []);
  });

  test('MBPP sanitized: every reference passes its test_list (with test_imports)', async (t) => {
    const failing = await referencesPass(code(mbpp.load(DATA, 'sanitized')), t);
    assert.deepEqual(failing, []);
  });

  test('HumanEval+: canonical solutions pass on base + plus inputs (sample, incl. find_zero and huge outputs)', async (t) => {
    const all = code(humanevalplus.load(DATA, 'test'));
    const ids = new Set([
      'HumanEval/0',
      'HumanEval/2',
      'HumanEval/4',
      'HumanEval/32',
      'HumanEval/38',
      'HumanEval/95',
      'HumanEval/130',
      'HumanEval/139',
      'HumanEval/163',
    ]);
    const sample = all.filter((p) => ids.has(p.id));
    assert.equal(sample.length, ids.size);
    const failing = await referencesPass(sample, t);
    assert.deepEqual(failing, []);
    const zero = sample.find((p) => p.id === 'HumanEval/32')!;
    assert.equal(zero.tests.kind === 'evalplus' && zero.tests.oracle, 'find_zero');
    // A wrong program fails on the extra inputs.
    const p0 = sample.find((p) => p.id === 'HumanEval/0')!;
    const wrong = await v.verify(`${p0.starter_code}    return len(numbers) > 1 and threshold > 0.5\n`, p0.tests);
    assert.equal(wrong.passed, false);
    assert.ok(wrong.tests_total > 50, 'base + plus inputs');
  });

  test('MBPP+: canonical solutions pass (sample incl. deserialised tuple/set/complex inputs and special oracles)', async (t) => {
    const all = code(mbppplus.load(DATA, 'test'));
    const ids = new Set([
      'Mbpp/2',
      'Mbpp/63',
      'Mbpp/75',
      'Mbpp/106',
      'Mbpp/115',
      'Mbpp/124',
      'Mbpp/252',
      'Mbpp/255',
      'Mbpp/278',
      'Mbpp/580',
      'Mbpp/722',
      'Mbpp/164',
      'Mbpp/295',
      'Mbpp/581',
      'Mbpp/558',
    ]);
    const sample = all.filter((p) => ids.has(p.id));
    assert.ok(sample.length >= 12, `found ${sample.map((p) => p.id).join(',')}`);
    const failing = await referencesPass(sample, t);
    assert.deepEqual(failing, []);
    const ref255 = await v.expectedFor(sample.find((p) => p.id === 'Mbpp/255')!.tests as Parameters<CodeVerifier['expectedFor']>[0]);
    for (const f of ref255.failures) t.diagnostic(`Mbpp/255 reference fails on input ${f.index} (left out): ${f.message}`);
  });

  test('LiveCodeBench: hand-written stdin and functional solutions pass, wrong ones fail', async () => {
    const all = code(livecodebench.load(DATA, 'test'));
    const stdin = all.find((p) => p.id === 'abc387_b')!;
    assert.equal(stdin.tests.kind, 'stdio');
    const ok = await v.verify(
      'x = int(input())\nprint(sum(i * j for i in range(1, 10) for j in range(1, 10) if i * j != x))\n',
      stdin.tests,
    );
    assert.equal(ok.passed, true, ok.message);
    assert.equal((await v.verify('print(2025)\n', stdin.tests)).passed, false);

    const fn = all.find((p) => p.id === '3708')!;
    assert.equal(fn.tests.kind === 'functional' && fn.tests.func_name, 'zigzagTraversal');
    const sol =
      'class Solution:\n    def zigzagTraversal(self, grid: List[List[int]]) -> List[int]:\n        seq = []\n        for i, row in enumerate(grid):\n            seq += row if i % 2 == 0 else row[::-1]\n        return seq[::2]\n';
    const good = await v.verify(sol, fn.tests);
    assert.equal(good.passed, true, good.message);
    assert.equal((await v.verify(sol.replace('seq[::2]', 'seq[1::2]'), fn.tests)).passed, false);

    const rllm = code(livecodebench.load(DATA, 'rllm'));
    assert.ok(
      rllm.filter((p) => p.tests.kind === 'functional').every((p) => p.tests.kind === 'functional' && p.tests.func_name.length > 0),
    );
  });

  test('CodeContests: a correct solution of 1575A passes, a wrong one fails', async () => {
    const [p] = code(codeContests.load(DATA, 'test'));
    const sol = [
      'import sys',
      'data = sys.stdin.read().split()',
      'n, m = int(data[0]), int(data[1])',
      'rows = data[2:2 + n]',
      'def key(i):',
      '    s = rows[i]',
      '    return tuple(ord(c) if j % 2 == 0 else -ord(c) for j, c in enumerate(s))',
      'print(" ".join(str(i + 1) for i in sorted(range(n), key=key)))',
      '',
    ].join('\n');
    const good = await v.verify(sol, p!.tests);
    assert.equal(good.passed, true, good.message);
    assert.equal((await v.verify(sol.replace('-ord(c)', 'ord(c)'), p!.tests)).passed, false);
  });
});
