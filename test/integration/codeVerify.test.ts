/**
 * Every test kind, with passing and failing programs, through the real
 * sandbox; plus the `tracelift verify code` CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { CodeVerdictSchema, type CodeTests } from '../../src/engine/contract/codeTests';
import { CodeVerifier } from '../../src/engine/verify/code/verifier';
import { runVerifyCode } from '../../src/cli/verifyCode';

const SKIP = process.env.TRACELIFT_SKIP_SANDBOX_TESTS === '1';
let v: CodeVerifier;

async function check(program: string, tests: CodeTests, opts: { timeoutS?: number; perTestTimeoutS?: number } = {}) {
  const verdict = await v.verify(program, tests, opts);
  CodeVerdictSchema.parse(verdict);
  return verdict;
}

describe('code verification by test kind', { skip: SKIP }, () => {
  before(async () => {
    v = new CodeVerifier({ timeoutS: 5, expectedCacheDir: null });
    await v.ready();
  });
  after(async () => v.close());

  describe('humaneval (check(candidate))', () => {
    const tests: CodeTests = {
      kind: 'humaneval',
      entry_point: 'add',
      test: 'METADATA = {}\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n    for a in range(5):\n        assert candidate(a, a) == 2 * a\n',
    };

    test('passing program', async () => {
      const r = await check('def add(a, b):\n    return a + b\n', tests);
      assert.equal(r.passed, true);
      assert.equal(r.status, 'passed');
      assert.equal(r.tests_total, 3, 'one test per asserting statement of check()');
      assert.equal(r.tests_passed, 3);
    });

    test('partly wrong program: pass rate counts', async () => {
      const r = await check('def add(a, b):\n    return 3 if (a, b) == (1, 2) else a - b\n', tests);
      assert.equal(r.passed, false);
      assert.equal(r.status, 'failed');
      assert.equal(r.tests_passed, 1);
      assert.equal(r.tests_total, 3);
      assert.match(r.message ?? '', /candidate\(-1, 1\) == 0/);
    });

    test('syntax error', async () => {
      const r = await check('def add(a, b)\n    return a + b\n', tests);
      assert.equal(r.status, 'syntax_error');
      assert.equal(r.tests_passed, 0);
      assert.equal(r.tests_total, 3);
    });

    test('runtime error', async () => {
      const r = await check('def add(a, b):\n    return a + b + undefined_name\n', tests);
      assert.equal(r.status, 'runtime_error');
      assert.match(r.message ?? '', /NameError/);
    });

    test('missing entry point is a runtime error', async () => {
      const r = await check('def plus(a, b):\n    return a + b\n', tests);
      assert.equal(r.status, 'runtime_error');
      assert.equal(r.tests_passed, 0);
    });

    test('trusted helpers from the prompt are available to check()', async () => {
      const helpers = 'def double(x):\n    return 2 * x\n\ndef quad(x):\n    """return 4 * x"""\n';
      const t: CodeTests = {
        kind: 'humaneval',
        entry_point: 'quad',
        helpers,
        test: 'def check(candidate):\n    assert candidate(3) == double(double(3))\n',
      };
      assert.equal((await check('def quad(x):\n    return 4 * x\n', t)).passed, true);
      assert.equal((await check('def quad(x):\n    return 5 * x\n', t)).passed, false);
    });

    test('a check() that returns early runs as one test', async () => {
      const t: CodeTests = {
        kind: 'humaneval',
        entry_point: 'f',
        test: 'def check(candidate):\n    if candidate(1) == 1:\n        return\n    assert False\n',
      };
      const r = await check('def f(x):\n    return x\n', t);
      assert.equal(r.passed, true);
      assert.equal(r.tests_total, 1);
    });
  });

  describe('asserts (MBPP test_list)', () => {
    const tests: CodeTests = { kind: 'asserts', asserts: ['assert sq(2) == 4', 'assert sq(3) == 9', 'assert sq(-1) == 1'] };

    test('passing program', async () => {
      const r = await check('def sq(x):\n    return x * x\n', tests);
      assert.equal(r.passed, true);
      assert.equal(r.tests_passed, 3);
    });

    test('failing program', async () => {
      const r = await check('def sq(x):\n    return x * abs(x) if x > 0 else x\n', tests);
      assert.equal(r.status, 'failed');
      assert.equal(r.tests_passed, 2);
      assert.match(r.message ?? '', /sq\(-1\) == 1/);
    });

    test('setup code and objects built from program classes', async () => {
      const t: CodeTests = {
        kind: 'asserts',
        setup: 'root = Node(1)\nroot.left = Node(2)\nroot.left.left = Node(3)',
        asserts: ['assert height(root) == 3', 'assert height(None) == 0'],
      };
      const program =
        'class Node:\n    def __init__(self, v):\n        self.v = v\n        self.left = None\n        self.right = None\ndef height(n):\n    return 0 if n is None else 1 + max(height(n.left), height(n.right))\n';
      const r = await check(program, t);
      assert.equal(r.passed, true, r.message);
    });

    test('a function named like a builtin (MBPP "sum") with entry_point', async () => {
      const t: CodeTests = { kind: 'asserts', entry_point: 'sum', asserts: ['assert sum(10, 15) == 6'] };
      const r = await check('def sum(a, b):\n    return 6 if (a, b) == (10, 15) else 0\n', t);
      assert.equal(r.passed, true, r.message);
    });

    test('builtin types as arguments and results', async () => {
      const t: CodeTests = { kind: 'asserts', asserts: ['assert drop((1, 2.5, "a"), int) == [2.5, "a"]', 'assert kind(3) == int'] };
      const r = await check('def drop(t, ty):\n    return [e for e in t if not isinstance(e, ty)]\ndef kind(x):\n    return type(x)\n', t);
      assert.equal(r.passed, true, r.message);
    });

    test('complex, tuples, sets, dicts and big ints round-trip exactly', async () => {
      const t: CodeTests = {
        kind: 'asserts',
        asserts: ['assert f() == ((1+2j), (1, 2), {1, 2}, {"a": [1]}, 2 ** 100, float("inf"), b"x")', 'assert g() != g()'],
      };
      const r = await check(
        'def f():\n    return (complex(1, 2), (1, 2), {1, 2}, {"a": [1]}, 2 ** 100, float("inf"), b"x")\ndef g():\n    return float("nan")\n',
        t,
      );
      assert.equal(r.passed, true, r.message);
    });
  });

  describe('stdio (LiveCodeBench stdin / CodeContests)', () => {
    const tests: CodeTests = {
      kind: 'stdio',
      cases: [
        { input: '2 3\n', output: '5\n' },
        { input: '10 -4\n', output: '6' },
        { input: '1 1\n', output: '2\n\n\n' },
      ],
    };

    test('passing program (whitespace rules)', async () => {
      const r = await check('a, b = map(int, input().split())\nprint(a + b, end="  \\r\\n\\n")\n', tests);
      assert.equal(r.passed, true, r.message);
      assert.equal(r.tests_passed, 3);
    });

    test('wrong answer', async () => {
      const r = await check('a, b = map(int, input().split())\nprint(a * b)\n', tests);
      assert.equal(r.status, 'failed');
      assert.equal(r.tests_passed, 0);
      assert.match(r.message ?? '', /wrong answer/);
    });

    test('decimal tokens compare as numbers', async () => {
      const t: CodeTests = { kind: 'stdio', cases: [{ input: '', output: '1.50 2\n' }] };
      assert.equal((await check('print("1.5 2.0")\n', t)).passed, true);
      assert.equal((await check('print("1.5000001 2")\n', t)).passed, false);
    });

    test('non-zero exit is a runtime error', async () => {
      const r = await check('import sys\nprint(5)\nsys.exit(3)\n', tests);
      assert.equal(r.status, 'runtime_error');
    });

    test('exception is a runtime error', async () => {
      const r = await check('raise ValueError("boom")\n', tests);
      assert.equal(r.status, 'runtime_error');
      assert.match(r.stderr_tail ?? '', /ValueError: boom/);
    });

    test('syntax error', async () => {
      const r = await check('print(\n', tests);
      assert.equal(r.status, 'syntax_error');
      assert.equal(r.tests_total, 3);
    });

    test('one slow case times out, the others still count', async () => {
      const r = await check('a, b = map(int, input().split())\nif a == 10:\n    while True:\n        pass\nprint(a + b)\n', tests, {
        timeoutS: 6,
        perTestTimeoutS: 1,
      });
      assert.equal(r.status, 'timeout');
      assert.equal(r.tests_passed, 2);
      assert.equal(r.tests?.[1]?.status, 'timeout');
    });

    test('large input and output', async () => {
      const n = 200000;
      const input = `${n}\n${Array.from({ length: n }, (_, i) => i).join(' ')}\n`;
      const output = Array.from({ length: n }, (_, i) => 2 * i).join('\n');
      const t: CodeTests = { kind: 'stdio', cases: [{ input, output }] };
      const r = await check('import sys\nd = sys.stdin.read().split()\nsys.stdout.write("\\n".join(str(2 * int(x)) for x in d[1:]))\n', t);
      assert.equal(r.passed, true, r.message);
    });
  });

  describe('functional (LiveCodeBench class Solution)', () => {
    const tests: CodeTests = {
      kind: 'functional',
      func_name: 'twoSum',
      cases: [
        { input: '[2, 7, 11, 15]\n9', output: '[0, 1]' },
        { input: '[3, 2, 4]\n6', output: '[1, 2]' },
      ],
    };

    test('passing Solution class (typing names pre-imported by the program)', async () => {
      const program =
        'from typing import List\nclass Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n';
      const r = await check(program, tests);
      assert.equal(r.passed, true, r.message);
    });

    test('tuples count as lists, as in LiveCodeBench', async () => {
      const r = await check(
        'class Solution:\n    def twoSum(self, nums, target):\n        return (0, 1) if target == 9 else (1, 2)\n',
        tests,
      );
      assert.equal(r.passed, true, r.message);
    });

    test('top-level function when there is no Solution class', async () => {
      const r = await check('def twoSum(nums, target):\n    return [0, 1]\n', tests);
      assert.equal(r.tests_passed, 1);
      assert.equal(r.status, 'failed');
    });

    test('wrong answer', async () => {
      const r = await check('class Solution:\n    def twoSum(self, nums, target):\n        return []\n', tests);
      assert.equal(r.status, 'failed');
      assert.equal(r.tests_passed, 0);
    });
  });

  describe('evalplus (HumanEval+/MBPP+ inputs)', () => {
    test('expected outputs given; floats compared with atol', async () => {
      const tests: CodeTests = {
        kind: 'evalplus',
        entry_point: 'mean',
        inputs: [[[1, 2, 3]], [[0.1, 0.2]]],
        expected: [{ $float: '2.0' }, 0.15000000000000002],
        atol: 0,
      };
      const r = await check('def mean(xs):\n    return sum(xs) / len(xs) + 1e-9\n', tests);
      assert.equal(r.passed, true, r.message);
      const bad = await check('def mean(xs):\n    return sum(xs) / len(xs) + 1e-3\n', tests);
      assert.equal(bad.status, 'failed');
    });

    test('expected outputs computed from the reference in the sandbox', async () => {
      const tests: CodeTests = {
        kind: 'evalplus',
        entry_point: 'rev',
        inputs: [['abc'], [''], [{ $tuple: [1, 2] }]],
        reference: 'def rev(s):\n    return s[::-1]\n',
      };
      assert.equal((await check('def rev(s):\n    return s[::-1]\n', tests)).passed, true);
      const r = await check('def rev(s):\n    return "".join(reversed(s)) if isinstance(s, str) else list(reversed(s))\n', tests);
      assert.equal(r.tests_passed, 2, 'a list is not the expected tuple');
    });

    test('computeExpected reports values and reference failures', async () => {
      const out = await v.computeExpected('def f(x):\n    return 10 // x\n', { entry_point: 'f', inputs: [[2], [0], [5]] });
      assert.deepEqual(out.outputs, [5, undefined, 2]);
      assert.equal(out.failures.length, 1);
      assert.equal(out.failures[0]!.index, 1);
    });

    test('set_eq and find_zero oracles', async () => {
      const setEq: CodeTests = {
        kind: 'evalplus',
        entry_point: 'common',
        inputs: [
          [
            [1, 2, 3],
            [3, 2],
          ],
        ],
        expected: [{ $tuple: [2, 3] }],
        oracle: 'set_eq',
      };
      assert.equal((await check('def common(a, b):\n    return [3, 2]\n', setEq)).passed, true);
      const fz: CodeTests = {
        kind: 'evalplus',
        entry_point: 'find_zero',
        inputs: [[[-6, 11, -6, 1]]],
        expected: [{ $float: '1.0' }],
        atol: 1e-6,
        oracle: 'find_zero',
      };
      assert.equal((await check('def find_zero(xs):\n    return 3.0\n', fz)).passed, true, 'any root passes');
      assert.equal((await check('def find_zero(xs):\n    return 2.5\n', fz)).passed, false);
    });
  });

  test('verifyBatch runs in parallel and keeps input order', async () => {
    const tests: CodeTests = { kind: 'asserts', asserts: ['assert f() == 1'] };
    const items = Array.from({ length: 8 }, (_, i) => ({ program: `def f():\n    return ${i % 2}\n`, tests }));
    const results = await v.verifyBatch(items);
    assert.deepEqual(
      results.map((r) => r.passed),
      items.map((_, i) => i % 2 === 1),
    );
  });
});

describe('tracelift verify code FILE.jsonl', { skip: SKIP }, () => {
  test('valid lines get one verdict line each, in order; malformed lines are reported and skipped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-verify-code-'));
    const file = path.join(dir, 'in.jsonl');
    const lines = [
      JSON.stringify({ id: 'a', program: 'def f(x):\n    return x + 1\n', tests: { kind: 'asserts', asserts: ['assert f(1) == 2'] } }),
      JSON.stringify({
        id: 'b',
        program: 'print(input())',
        tests: { kind: 'stdio', cases: [{ input: 'hi', output: 'bye' }] },
        timeout_s: 3,
      }),
      '{"id": "broken", ',
      JSON.stringify({ id: 'c', program: 'x', tests: { kind: 'stdio', cases: 'nope' } }),
      JSON.stringify({
        id: 7,
        program: 'def f(',
        tests: { kind: 'humaneval', test: 'def check(c):\n    assert c(1)\n', entry_point: 'f' },
      }),
    ];
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const out = new PassThrough();
    const err = new PassThrough();
    let outText = '';
    let errText = '';
    out.on('data', (b: Buffer) => (outText += b.toString()));
    err.on('data', (b: Buffer) => (errText += b.toString()));
    const code = await runVerifyCode(file, { err }, out);
    assert.equal(code, 1);
    const results = outText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      results.map((r) => [r.id, r.passed, r.status, r.tests_passed, r.tests_total]),
      [
        ['a', true, 'passed', 1, 1],
        ['b', false, 'failed', 0, 1],
        ['7', false, 'syntax_error', 0, 1],
      ],
    );
    assert.match(errText, /in\.jsonl:3: invalid JSON/);
    assert.match(errText, /in\.jsonl:4: field "tests\.cases"/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
