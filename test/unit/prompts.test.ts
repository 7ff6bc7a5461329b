import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PROMPTS, executorMessages, fillTemplate, plannerMessages } from '../../src/engine/prompts/templates';

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
