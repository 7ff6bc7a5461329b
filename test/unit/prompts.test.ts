import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PROMPTS,
  executorMessages,
  fillTemplate,
  OFFICIAL_PROMPTS,
  plannerMessages,
  PROMPT_SETS,
} from '../../src/engine/prompts/templates';
import { TRUNCATION_MARKER, truncateChars, wouldTruncate } from '../../src/engine/prompts/truncate';
import { renderCompletionPrompt } from '../../src/engine/prompts/render';

test('templates fill in one pass: a trace containing {problem} stays literal', () => {
  assert.equal(fillTemplate('P={problem} T={trace}', { problem: 'x', trace: '{problem}' }), 'P=x T={problem}');
  assert.equal(fillTemplate('{unknown}', {}), '{unknown}');
});

test('executor prompt carries the trace only when given one', () => {
  const withTrace = executorMessages(DEFAULT_PROMPTS, 'math', 'What is 1+1?', 'Add one and one.');
  const without = executorMessages(DEFAULT_PROMPTS, 'math', 'What is 1+1?', null);
  assert.ok(withTrace[1]!.content.includes('Add one and one.'));
  assert.ok(withTrace[1]!.content.includes('What is 1+1?'));
  assert.ok(!without[1]!.content.includes('Provided reasoning'));
  assert.equal(withTrace[0]!.role, 'system');
});

test('planner prompts forbid the final answer (math) and code (code)', () => {
  assert.match(plannerMessages(DEFAULT_PROMPTS, 'math', 'p')[1]!.content, /final answer/i);
  assert.match(plannerMessages(DEFAULT_PROMPTS, 'code', 'p')[1]!.content, /code/i);
  assert.match(DEFAULT_PROMPTS.version, /v\d+/);
});

// ---------------------------------------------------------------------------
// The official protocol's prompt pieces (docs/official-protocol.md §1)
// ---------------------------------------------------------------------------

test('truncateChars: cut to N, drop the partial last line, strip, append the marker', () => {
  assert.equal(truncateChars('short', 10), 'short');
  assert.equal(truncateChars('exactly10!', 10), 'exactly10!');
  assert.equal(truncateChars('line one\nline two\nline three', 15), 'line one' + TRUNCATION_MARKER);
  // The cut falls right after a newline: the empty partial line is dropped with it.
  assert.equal(truncateChars('aaaa\nbbbb\ncccc', 10), 'aaaa\nbbbb' + TRUNCATION_MARKER);
  // No newline before the cut: the first N characters stay, trailing spaces go.
  assert.equal(truncateChars('abc   defghij', 6), 'abc' + TRUNCATION_MARKER);
  // Trailing whitespace of the kept part goes, as Python's rstrip (U+001C is Python whitespace, U+FEFF is not).
  assert.equal(truncateChars('ab \t\x1c\nxyzxyz', 9), 'ab' + TRUNCATION_MARKER);
  assert.equal(truncateChars('ab\ufeff\nxyzxyz', 7), 'ab\ufeff' + TRUNCATION_MARKER);
  // No limit: null, 0 or negative (official: max_chars <= 0).
  assert.equal(truncateChars('x'.repeat(50), null), 'x'.repeat(50));
  assert.equal(truncateChars('x'.repeat(50), 0), 'x'.repeat(50));
  assert.equal(truncateChars('x'.repeat(50), -1), 'x'.repeat(50));
});

test('truncateChars counts code points as Python does', () => {
  const smileys = '😀'.repeat(6); // 6 code points, 12 UTF-16 units
  assert.equal(truncateChars(smileys, 6), smileys, 'within the limit in code points');
  assert.equal(truncateChars(smileys, 4), '😀'.repeat(4) + TRUNCATION_MARKER);
  assert.equal(wouldTruncate(smileys, 6), false);
  assert.equal(wouldTruncate(smileys, 5), true);
});

test('a 5 MB trace is cut to its budget', () => {
  const huge = 'reasoning line\n'.repeat(350_000);
  const cut = truncateChars(huge, 2_000);
  assert.ok(cut.length <= 2_000 + TRUNCATION_MARKER.length);
  assert.ok(cut.endsWith('reasoning line' + TRUNCATION_MARKER));
});

test('executorMessages applies the budgets and the empty-trace choice', () => {
  const limits = { problem: 12, trace: 9 };
  const [, user] = executorMessages(DEFAULT_PROMPTS, 'math', 'line one\nline two', 'step one\nstep two', { truncation: limits });
  assert.ok(user!.content.includes('line one' + TRUNCATION_MARKER));
  assert.ok(user!.content.includes('step one' + TRUNCATION_MARKER));
  assert.ok(!user!.content.includes('two'));
  // An empty trace: the with-trace prompt by default, the no-trace prompt when asked.
  assert.match(executorMessages(DEFAULT_PROMPTS, 'math', 'p', '')[1]!.content, /Provided reasoning/);
  assert.doesNotMatch(executorMessages(DEFAULT_PROMPTS, 'math', 'p', '', { emptyTraceAsNoTrace: true })[1]!.content, /Provided reasoning/);
  assert.match(executorMessages(DEFAULT_PROMPTS, 'math', 'p', ' ', { emptyTraceAsNoTrace: true })[1]!.content, /Provided reasoning/);
});

test('the official prompt set: its own version, grade-school wording, no Markdown for code, no planner system message', () => {
  assert.notEqual(OFFICIAL_PROMPTS.version, DEFAULT_PROMPTS.version);
  assert.equal(PROMPT_SETS.official, OFFICIAL_PROMPTS);
  assert.equal(PROMPT_SETS.tracelift, DEFAULT_PROMPTS);
  const [sys, user] = executorMessages(OFFICIAL_PROMPTS, 'math', 'What is 1+1?', 'Add.');
  assert.equal(sys!.content, 'You solve grade-school math problems. Return only the final numeric answer, no explanation.');
  assert.equal(
    user!.content,
    'Problem:\nWhat is 1+1?\n\nProvided reasoning:\nAdd.\n\nUse the provided reasoning as guidance if it is helpful. Return only the final answer.',
  );
  assert.equal(executorMessages(OFFICIAL_PROMPTS, 'math', 'Q', null)[1]!.content, 'Problem:\nQ\n\nReturn only the final answer.');
  assert.match(
    executorMessages(OFFICIAL_PROMPTS, 'code', 'Q', 'R')[1]!.content,
    /^Use the provided reasoning as guidance, then write a complete Python 3 program that solves the problem\. Output code only\. Do not use Markdown, do not explain\.\n\nProblem:\nQ\n\nProvided reasoning:\nR$/,
  );
  assert.match(executorMessages(OFFICIAL_PROMPTS, 'code', 'Q', null)[1]!.content, /Do not use Markdown, do not explain\.\n\nProblem:\nQ$/);
  const planner = plannerMessages(OFFICIAL_PROMPTS, 'math', 'Q');
  assert.equal(planner.length, 1);
  assert.equal(planner[0]!.role, 'user');
  assert.match(planner[0]!.content, /^You are solving a grade-school math problem\.\n/);
  assert.ok(planner[0]!.content.endsWith('Problem:\nQ\n\nReasoning:\n'));
  assert.equal(
    plannerMessages(OFFICIAL_PROMPTS, 'code', 'x'.repeat(40), { truncation: { problem: 10, trace: null } })[0]!.content.includes(
      TRUNCATION_MARKER,
    ),
    true,
  );
});

test('completions rendering: ours and the official "Instruction:" … cue', () => {
  const messages = executorMessages(OFFICIAL_PROMPTS, 'math', 'What is 1+1?', null);
  assert.equal(
    renderCompletionPrompt(messages, 'official', 'math'),
    'Instruction:\nYou solve grade-school math problems. Return only the final numeric answer, no explanation.\n\n' +
      'Problem:\nWhat is 1+1?\n\nReturn only the final answer.\n\nFinal answer:\n',
  );
  const code = renderCompletionPrompt(
    [
      { role: 'system', content: ' S \n' },
      { role: 'user', content: '\nU\n' },
    ],
    'official',
    'code',
  );
  assert.equal(code, 'Instruction:\nS\n\nU\n\nFinal Python 3 solution:\n');
  assert.equal(
    renderCompletionPrompt(
      [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U' },
      ],
      'tracelift',
      'math',
    ),
    'System: S\n\nUser: U\n\nAssistant:',
  );
});
