/** The Build Groups command's CLI line and its progress parsing (the parts without the editor). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerGroupsCommand } from '../../src/cli/groupsCommand';
import { groupsBuildArgs, parseBuildProgress } from '../../src/extension/services/groupsBuildLine';

test('groups build arguments: one argument per value, only what was chosen', () => {
  const args = groupsBuildArgs({
    task: 'mbpp',
    split: 'test',
    limit: 20,
    kinds: ['off_by_one', 'wrong_algorithm_choice'],
    out: '/w/groups/mbpp test.jsonl',
    positives: '/w/plans; rm -rf x.jsonl',
    planner: null,
    perturber: { url: 'http://127.0.0.1:8000/v1', model: 'qwen' },
    judge: { url: 'http://127.0.0.1:8001/v1', model: null },
    measure: true,
  });
  assert.deepEqual(args, [
    'groups',
    'build',
    '--task',
    'mbpp',
    '--out',
    '/w/groups/mbpp test.jsonl',
    '--split',
    'test',
    '--limit',
    '20',
    '--kinds',
    'off_by_one,wrong_algorithm_choice',
    '--positives',
    '/w/plans; rm -rf x.jsonl',
    '--perturb-url',
    'http://127.0.0.1:8000/v1',
    '--perturb-model',
    'qwen',
    '--judge-url',
    'http://127.0.0.1:8001/v1',
    '--measure',
  ]);
  // The CLI accepts every flag the command writes.
  const program = new Command().exitOverride();
  registerGroupsCommand(program);
  const build = program.commands.find((c) => c.name() === 'groups')!.commands.find((c) => c.name() === 'build')!;
  const known = new Set(build.options.map((o) => o.long));
  for (const flag of args.filter((a) => a.startsWith('--'))) assert.ok(known.has(flag), flag);
});

test('progress lines of groups build are read; other lines are not', () => {
  assert.deepEqual(parseBuildProgress('progress 3/200 math_gsm8k_000002: 4 negatives'), {
    done: 3,
    total: 200,
    problemId: 'math_gsm8k_000002',
  });
  assert.deepEqual(parseBuildProgress('progress 1/2 HumanEval/13: dropped (positive_no_lift)'), {
    done: 1,
    total: 2,
    problemId: 'HumanEval/13',
  });
  assert.equal(parseBuildProgress('embedded executor ready at http://127.0.0.1:1/v1'), null);
  assert.equal(parseBuildProgress('progress: soon'), null);
});
