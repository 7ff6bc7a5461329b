import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractNumericAnswer, isPlainNumber, numericAnswersEqual, verifyNumeric } from '../../src/engine/verify/math/numeric';
import { MathVerifier, MathVerifyUnavailableError, routeTask } from '../../src/engine/verify/math/index';
import { findRepoRoot, resolvePython } from '../../src/engine/verify/math/python';

describe('extractNumericAnswer', () => {
  const cases: [string, string | null][] = [
    ['18', '18'],
    ['#### 72', '72'],
    ["She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.\n#### 18", '18'],
    ['#### 1,450,000', '1450000'],
    ['The answer is 18.', '18'],
    ['The answer is $18.00.', '18.00'],
    ['So the answer is: 1,000 dollars', '1000'],
    ['Answer: 5 cm', '5'],
    ['**Answer:** 42', '42'],
    ['Final answer: 5 + 3 = 8 apples.', '8'],
    ['We get \\boxed{17} in total.', '17'],
    ['Thus $\\boxed{\\$1{,}250}$', '1250'],
    ['\\boxed{\\frac{1}{2}}', '1/2'],
    ['\\boxed{-\\frac{3}{4}}', '-3/4'],
    ['The temperature dropped to -12 degrees. The answer is -12', '-12'],
    ['She spent 10-3 = 7 dollars', '7'],
    ['It grew by 25%', '25%'],
    ['It grew by 25 percent.', '25%'],
    ['First 3 apples, then 5 more, for 8 total apples', '8'],
    ['no numbers here', null],
    ['', null],
    ['The answer is eighteen.', '18'],
    ['x2 + H2O', null],
    ['Result: 3.5 hours', '3.5'],
    ['\u22125 is the answer', '-5'],
    ['The answer is 12.\n\nQuestion: Tom has 3 apples. The answer is 3.', '12'],
    ['The answer is 7<|im_end|>Then 99', '7'],
    ['#### 18\nThe answer is 20', '20'],
    ['The answer is \\boxed{18}.', '18'],
    ['The answer is:\n 42', '42'],
    ['1.5e3 meters', '1.5e3'],
    ['half is 1/2 of the cake', '1/2'],
    ['answer: 2 1/2 cups', '5/2'],
    ['She has 3 apples, 1/2 of them red', '1/2'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text).slice(0, 60)} -> ${expected}`, () => {
      assert.equal(extractNumericAnswer(text), expected);
    });
  }

  it('prefers the last explicit marker over a later stray number', () => {
    assert.equal(extractNumericAnswer('The answer is 42. I used 3 steps and 7 minutes.'), '42');
  });

  it('survives very long degenerate output', () => {
    const text = 'blah 1 '.repeat(20_000) + 'The answer is 9';
    assert.equal(extractNumericAnswer(text), '9');
  });
});

describe('numericAnswersEqual', () => {
  const equal: [string | number, string | number][] = [
    ['18.00', '18'],
    ['18', 18],
    ['1,000', '1000'],
    ['$1,000', '1000'],
    ['0.5', '1/2'],
    ['1/2', '0.50'],
    ['-3/4', '-0.75'],
    ['50%', '50'],
    ['50%', '0.5'],
    ['-9867630', '-9867630.0'],
    ['51', 51.0],
    ['3.5', '3.5'],
    ['3244047.1', '3244047.0999999996'],
    ['14053029.666666666', '14053029.666666668'],
    ['1806106.8', 1806106.8000000003],
    // a float rendering is the simple fraction it stands for: 3244047.0999999996 = 32440471/10
    ['3244047.10', '3244047.0999999996'],
    ['-3244047.1', '-3244047.0999999996'],
    ['0.30000000000000004', '0.3'],
    // a rounded decimal matches a value whose expansion does not terminate
    ['10074005.67', '10074005.666666666'],
    ['0.666667', '2/3'],
    ['14053029.67', '14053029.6666667'], // GSM-Hard reference as formatted by the task loader
    ['12.5%', '0.125'],
    ['18 dollars', '18'],
    ['1e21', 1e21],
    ['0.333333333', '1/3'],
    ['-0', '0'],
    ['The total is #### 72', '72'],
  ];
  for (const [a, b] of equal) {
    it(`${a} == ${b}`, () => assert.equal(numericAnswersEqual(a, b), true));
  }

  const notEqual: [string | number, string | number][] = [
    ['17', '18'],
    ['18.01', '18'],
    ['1000000', '1000001'],
    ['-18', '18'],
    ['0.33', '1/3'],
    ['3244000', '3244047.0999999996'],
    ['3.3333', '3.3333333333333335'],
    ['5186630.5', '5186630.6'],
    ['50%', '5'],
    ['abc', '1'],
    ['', '0'],
    ['1/0', '1'],
    ['9284017268534', '9284017268534.4'],
    // GSM-Hard: 3244047.0999999996 is 3244047.1, so neither 3244050 (relative 9e-7) nor 3244047 is it
    ['3244050', '3244047.0999999996'],
    ['3244047', '3244047.0999999996'],
    ['3244047.2', '3244047.0999999996'],
    // an integer is not a rounding of a non-integer, nor is a rounding of a terminating decimal accepted
    ['10074006', '10074005.666666666'],
    ['2.13', '2.125'],
    ['0.67', '2/3'],
    // hedged references are no reference
    ['19', '18 or 19'],
  ];
  for (const [a, b] of notEqual) {
    it(`${a} != ${b}`, () => assert.equal(numericAnswersEqual(a, b), false));
  }
});

describe('verifyNumeric', () => {
  it('gsm8k: correct answer in a rambling reply', () => {
    const reply =
      'Janet has 16 eggs. She eats 3 and bakes 4, so 16 - 3 - 4 = 9 eggs left. ' + 'Each sells for $2, so 9 * 2 = $18.\nThe answer is 18.';
    assert.deepEqual(verifyNumeric(reply, '18'), { correct: true, extracted: '18' });
  });
  it('gsm8k: wrong answer', () => {
    assert.deepEqual(verifyNumeric('16 - 3 = 13, so she makes $26.', '18'), { correct: false, extracted: '26' });
  });
  it('gsm8k: reference given as a full solution with ####', () => {
    assert.equal(verifyNumeric('#### 5,600', '5 boxes of 1,120... \n#### 5,600').correct, true);
  });
  it('gsm_hard: large negative float target', () => {
    assert.equal(verifyNumeric('So she loses 9,867,630 dollars: the answer is -9867630', '-9867630.0').correct, true);
    assert.equal(verifyNumeric('the answer is 9867630', '-9867630.0').correct, false);
  });
  it('gsm_hard: non-integer float target', () => {
    assert.equal(verifyNumeric('#### 3.5', 3.5).correct, true);
    assert.equal(verifyNumeric('#### 10074005.67', '10074005.666666666').correct, true); // within 1e-6 relative
    assert.equal(verifyNumeric('#### 10070000', '10074005.666666666').correct, false);
    assert.equal(verifyNumeric('#### 10074005.666666667', '10074005.666666666').correct, true);
  });
  it('svamp: float answer 51.0', () => {
    assert.equal(verifyNumeric('76 - 25 = 51', 51.0).correct, true);
    assert.equal(verifyNumeric('76 + 25 = 101', '51.0').correct, false);
  });
  it('gsm_hard: 3244047.0999999996 accepts 3244047.1, rejects 3244050', () => {
    assert.equal(verifyNumeric('The answer is 3244047.1', '3244047.0999999996').correct, true);
    assert.equal(verifyNumeric('#### 3,244,047.1', 3244047.0999999996).correct, true);
    assert.equal(verifyNumeric('The answer is 3244050', '3244047.0999999996').correct, false);
    assert.equal(verifyNumeric('The answer is 3244047', '3244047.0999999996').correct, false);
  });
  it('no number in the prediction', () => {
    assert.deepEqual(verifyNumeric("I don't know.", '4'), { correct: false, extracted: null });
  });
  it('matches real GSM8K rows against their own #### answer', () => {
    const root = findRepoRoot();
    const file = join(root, '..', 'shared', 'data', 'gsm8k', 'test.jsonl');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // shared data not present in this checkout
    }
    const rows = text
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 300);
    for (const line of rows) {
      const row = JSON.parse(line) as { answer: string };
      const gold = row.answer.split('####').pop()!.trim();
      assert.equal(verifyNumeric(row.answer, gold).correct, true, row.answer.slice(-80));
      // the solution minus its #### line ends on the answer in most rows; just check no throw
      verifyNumeric(row.answer.split('####')[0]!, gold);
    }
  });
});

describe('hedged answers', () => {
  const hedged: [string, string][] = [
    ['18 or 19', '18 or 19'],
    ['The answer is 18 or 19.', '18 or 19'],
    ['either 3 or 4', '3 or 4'],
    ['3 or 4', '3 or 4'],
    ['x=3 or x=4', '3 or x=4'],
    ['#### 18 or 19', '18 or 19'],
    ['\\boxed{18 \\text{ or } 19}', '18 or 19'],
    ['She makes 18 dollars or 19 dollars', '18 dollars or 19'],
    ['It is 18 (or maybe 19).', '18 (or maybe 19'],
    ['Answer: 18, or 19 if we round up', '18, or 19'],
  ];
  for (const [prediction, hedge] of hedged) {
    it(`${prediction} is hedged`, () => {
      for (const reference of ['18', '19', '3', '4']) {
        assert.deepEqual(verifyNumeric(prediction, reference), { correct: false, extracted: hedge, hedged: true });
      }
      assert.equal(extractNumericAnswer(prediction), null);
    });
  }
  const notHedged: [string, string, string][] = [
    // alternatives reasoned through, then one answer
    ['x = 3 or x = -3, and since x > 0, x = 3', '3', '3'],
    ['We could add or subtract. The answer is 18.', '18', '18'],
    ['The answer is 18 or so.', '18', '18'],
    ['First 2 or 3 steps give 10, so the total is 12', '12', '12'],
  ];
  for (const [prediction, reference, extracted] of notHedged) {
    it(`${prediction} is not hedged`, () => {
      assert.deepEqual(verifyNumeric(prediction, reference), { correct: true, extracted });
    });
  }
});

describe('routing', () => {
  it('isPlainNumber', () => {
    for (const s of ['18', '-9867630.0', '1,000', '$5', '3/4', '50%', ' 51.0 ', '1e+21']) {
      assert.equal(isPlainNumber(s), true, s);
    }
    for (const s of ['\\frac{1}{2}', 'x+1', '(3, \\frac{\\pi}{2})', '\\text{Evelyn}', '', '2\\sqrt{2}']) {
      assert.equal(isPlainNumber(s), false, s);
    }
  });
  it('routeTask', () => {
    assert.equal(routeTask('gsm8k', '1'), 'numeric');
    assert.equal(routeTask('gsm_hard', '1'), 'numeric');
    assert.equal(routeTask('svamp', '1'), 'numeric');
    assert.equal(routeTask('math500', '1'), 'latex');
    assert.equal(routeTask('latex', '1'), 'latex');
    assert.equal(routeTask('some_other_numeric_task', '1'), 'numeric');
    assert.equal(routeTask(undefined, '72'), 'numeric');
    assert.equal(routeTask(undefined, '\\frac{1}{2}'), 'latex');
    assert.equal(routeTask('', '\\frac{1}{2}'), 'latex');
  });
  it('MathVerifier routes numeric items without starting python', async () => {
    const v = new MathVerifier({ pythonPath: '/nonexistent/python' });
    const res = await v.verify([
      { prediction: 'The answer is 18', reference: '18', task: 'gsm8k' },
      { prediction: '#### 3', reference: '4', task: 'svamp' },
    ]);
    assert.deepEqual(res, [
      { correct: true, extracted: '18' },
      { correct: false, extracted: '3' },
    ]);
    await v.close();
  });
  it('MathVerifier rejects with a set-up hint when python is missing', async () => {
    const v = new MathVerifier({ pythonPath: '/nonexistent/python' });
    await assert.rejects(
      v.verify([
        { prediction: '\\boxed{1/2}', reference: '\\frac{1}{2}', task: 'math500' },
        { prediction: '7', reference: '7', task: 'gsm8k' },
      ]),
      (err: Error) => err instanceof MathVerifyUnavailableError && /README set-up/.test(err.message),
    );
    await v.close();
  });
});

describe('python lookup', () => {
  it('findRepoRoot finds the tracelift-vscode package', () => {
    const root = findRepoRoot();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
    assert.equal(pkg.name, 'tracelift-vscode');
  });
  it('resolvePython: option, then TRACELIFT_PYTHON, then .venv', () => {
    assert.equal(resolvePython('/opt/py'), '/opt/py');
    const saved = process.env.TRACELIFT_PYTHON;
    try {
      process.env.TRACELIFT_PYTHON = '/env/py';
      assert.equal(resolvePython(), '/env/py');
      delete process.env.TRACELIFT_PYTHON;
      assert.equal(resolvePython(), join(findRepoRoot(), '.venv', 'bin', 'python'));
    } finally {
      if (saved === undefined) delete process.env.TRACELIFT_PYTHON;
      else process.env.TRACELIFT_PYTHON = saved;
    }
  });
});
