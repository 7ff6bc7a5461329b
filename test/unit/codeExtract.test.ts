import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { extractProgram } from '../../src/engine/verify/code/extract';
import { canonicalDecimal, compareStdout } from '../../src/engine/verify/code/stdio';
import { deepTuple, parsePythonJson, pyFloat, toPyValue } from '../../src/engine/verify/code/pyjson';
import { aggregateStatus, parseChannel } from '../../src/engine/verify/code/harness';
import { CodeTestsSchema, VerifyCodeLineSchema } from '../../src/engine/contract/codeTests';

const fence = (lang: string, code: string) => `\`\`\`${lang}\n${code}\n\`\`\``;

describe('extractProgram', () => {
  test('a single ```python block', () => {
    const reply = `Here is the solution:\n\n${fence('python', 'def f(x):\n    return x + 1')}\n\nHope it helps.`;
    assert.equal(extractProgram(reply), 'def f(x):\n    return x + 1\n');
  });

  test('solution block followed by a usage example: the solution wins', () => {
    const reply = `${fence('python', 'def add(a, b):\n    return a + b')}\n\nExample:\n${fence('python', 'print(add(1, 2))  # 3')}`;
    assert.equal(extractProgram(reply), 'def add(a, b):\n    return a + b\n');
  });

  test('a draft and a corrected final version: the last defining block wins', () => {
    const reply = `First try:\n${fence('python', 'def f(x):\n    return x')}\nOops, fix:\n${fence('python', 'def f(x):\n    return x * 2')}`;
    assert.equal(extractProgram(reply), 'def f(x):\n    return x * 2\n');
  });

  test('the block defining the entry point is preferred', () => {
    const reply = `${fence('python', 'def solve(x):\n    return helper(x)\n\ndef helper(x):\n    return x')}\nAnd a helper test:\n${fence('python', 'def test_helper():\n    assert helper(1) == 1')}`;
    assert.match(extractProgram(reply, { entryPoint: 'solve' }), /^def solve/);
  });

  test('a LeetCode Solution class is found by its method name', () => {
    const reply = `${fence('python', 'class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]')}\n${fence('python', 'print(Solution().twoSum([2, 7], 9))')}`;
    assert.match(extractProgram(reply, { entryPoint: 'twoSum' }), /^class Solution:/);
  });

  test('```py, ```Python3 and ~~~ fences', () => {
    assert.equal(extractProgram(fence('py', 'x = 1')), 'x = 1\n');
    assert.equal(extractProgram(fence('Python3', 'x = 2')), 'x = 2\n');
    assert.equal(extractProgram('~~~python\nx = 3\n~~~'), 'x = 3\n');
  });

  test('an unlabeled block that looks like Python', () => {
    assert.equal(extractProgram(`Try this:\n${fence('', 'import sys\nprint(sys.stdin.read())')}`), 'import sys\nprint(sys.stdin.read())\n');
  });

  test('sample input blocks and shell blocks are not programs', () => {
    const reply = `Input:\n${fence('', '3\n1 2 3')}\nRun with:\n${fence('bash', 'python3 sol.py < in.txt')}\nCode:\n${fence('python', 'n = int(input())\nprint(sum(map(int, input().split())))')}`;
    assert.equal(extractProgram(reply), 'n = int(input())\nprint(sum(map(int, input().split())))\n');
  });

  test('an unterminated final fence (truncated reply)', () => {
    assert.equal(extractProgram('Solution:\n```python\ndef f(x):\n    return x'), 'def f(x):\n    return x\n');
  });

  test('<think> sections are ignored', () => {
    const reply = `<think>maybe\n${fence('python', 'def f(x):\n    return 0')}\n</think>\nFinal:\n${fence('python', 'def f(x):\n    return 1')}`;
    assert.equal(extractProgram(reply), 'def f(x):\n    return 1\n');
  });

  test('bare code without fences, with prose around it', () => {
    const reply = 'Sure! Here is the code.\n\ndef f(x):\n    if x:\n        return 1\n    return 0\n\nThis returns 1 for truthy input.';
    assert.equal(extractProgram(reply), 'def f(x):\n    if x:\n        return 1\n    return 0\n');
  });

  test('CRLF line ends and a uniformly indented block', () => {
    assert.equal(extractProgram('```python\r\n    def f():\r\n        return 1\r\n```'), 'def f():\n    return 1\n');
  });

  test('tabs inside code are kept', () => {
    assert.equal(extractProgram(fence('python', 'def f():\n\treturn "a\tb"')), 'def f():\n\treturn "a\tb"\n');
  });

  test('inline backticks are not fences', () => {
    assert.equal(extractProgram('Use `x = 1` and then:\n```python\nprint(2)\n```'), 'print(2)\n');
  });

  test('no code at all → empty string', () => {
    assert.equal(extractProgram('I cannot solve this problem, sorry.'), '');
    assert.equal(extractProgram(''), '');
  });

  test('a reply that is only code', () => {
    assert.equal(extractProgram('import math\nprint(math.pi)'), 'import math\nprint(math.pi)\n');
  });
});

describe('compareStdout (LiveCodeBench rules)', () => {
  test('surrounding whitespace, CRLF and trailing blank lines are ignored', () => {
    assert.equal(compareStdout('1 2  \r\n3\n\n\n', '1 2\n3').ok, true);
    assert.equal(compareStdout('  a\n', 'a').ok, true);
  });
  test('line count and content must match', () => {
    assert.equal(compareStdout('1\n2', '1').ok, false);
    assert.equal(compareStdout('YES', 'NO').ok, false);
    assert.equal(compareStdout('', '').ok, true);
  });
  test('numeric tokens compare as decimals', () => {
    assert.equal(compareStdout('1.0 2', '1 2.000').ok, true);
    assert.equal(compareStdout('2e3', '2000').ok, true);
    assert.equal(compareStdout('0.333', '0.3333').ok, false);
    assert.equal(canonicalDecimal('-0.0'), '0');
    assert.equal(canonicalDecimal('abc'), null);
    assert.equal(canonicalDecimal('nan'), null);
  });
});

describe('typed JSON', () => {
  test('parsePythonJson keeps Python types', () => {
    assert.deepEqual(parsePythonJson('[1, 1.0, 2.5, 1e400, 12345678901234567890, {"a": [true, null]}, "x\\"y"]'), [
      1,
      { $float: '1.0' },
      2.5,
      { $float: 'inf' },
      { $int: 'ab54a98ceb1f0ad2' },
      { $dict: [['a', [true, null]]] },
      'x"y',
    ]);
    assert.deepEqual(parsePythonJson('[NaN, -Infinity, -0.0]'), [{ $float: 'nan' }, { $float: '-inf' }, { $float: '-0.0' }]);
    assert.throws(() => parsePythonJson('[1,'));
  });
  test('helpers', () => {
    assert.deepEqual(deepTuple([1, [2, 3]]), { $tuple: [1, { $tuple: [2, 3] }] });
    assert.deepEqual(pyFloat(3), { $float: '3.0' });
    assert.deepEqual(toPyValue({ k: [1, 2] }), { $dict: [['k', [1, 2]]] });
  });
});

describe('harness records', () => {
  test('records without the nonce are rejected', () => {
    const buf = Buffer.from('{"t":"test","i":0,"status":"passed","n":"good"}\n{"t":"test","i":1,"status":"passed","n":"bad"}\nnot json\n');
    const parsed = parseChannel(buf, 'good');
    assert.equal(parsed.records.length, 1);
    assert.equal(parsed.rejected, 2);
  });
  test('aggregate status: syntax error, then errors in test order, then failed', () => {
    const r = (status: string) => ({ index: 0, status }) as Parameters<typeof aggregateStatus>[0][number];
    assert.equal(aggregateStatus([r('passed'), r('passed')]), 'passed');
    assert.equal(aggregateStatus([r('failed'), r('timeout'), r('memory')]), 'timeout');
    assert.equal(aggregateStatus([r('failed'), r('passed')]), 'failed');
    assert.equal(aggregateStatus([r('syntax_error')]), 'syntax_error');
    assert.equal(aggregateStatus([]), 'failed');
  });
  test('schemas accept every test kind and reject malformed lines', () => {
    for (const t of [
      { kind: 'humaneval', test: 'def check(c): pass', entry_point: 'f' },
      { kind: 'asserts', asserts: ['assert 1'] },
      { kind: 'stdio', cases: [{ input: '', output: '' }] },
      { kind: 'functional', func_name: 'f', cases: [{ input: '1', output: '1' }] },
      { kind: 'evalplus', entry_point: 'f', inputs: [[1]], expected: [1] },
    ]) {
      assert.equal(CodeTestsSchema.safeParse(t).success, true, JSON.stringify(t));
    }
    assert.equal(CodeTestsSchema.safeParse({ kind: 'evalplus', entry_point: 'f', inputs: [[1]] }).success, false);
    assert.equal(CodeTestsSchema.safeParse({ kind: 'evalplus', entry_point: 'f', inputs: [[1]], expected: [1, 2] }).success, false);
    assert.equal(VerifyCodeLineSchema.safeParse({ id: 3, program: '', tests: { kind: 'asserts', asserts: ['assert 1'] } }).data?.id, '3');
  });
});
