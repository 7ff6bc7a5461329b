import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvalConfig, buildTraceSource } from '../../src/engine/eval/buildConfig';

const executor = { base_url: 'http://127.0.0.1:40123/v1', model: 'smollm2-135m-instruct', api: 'chat' as const, n_sampling: 'no' as const };

test('executor_planner: the run config names the executor’s own server as the planner', () => {
  const config = buildEvalConfig({
    task: 'humaneval',
    limit: 1,
    traceSource: { kind: 'executor_planner', tracesPerProblem: 2 },
    executor: { endpoint: executor, origin: 'embedded' },
    dataDir: '/nonexistent',
    cacheDir: '/nonexistent-cache',
  });
  assert.equal(config.trace_source.kind, 'planner');
  if (config.trace_source.kind !== 'planner') return;
  assert.equal(config.trace_source.endpoint.base_url, executor.base_url);
  assert.equal(config.trace_source.endpoint.model, executor.model);
  assert.equal(config.trace_source.traces_per_problem, 2);
  assert.deepEqual(config.executor, config.trace_source.endpoint);
});

test('executor_planner before the executor is known: checked, no source yet; a planner URL still needs a model', () => {
  assert.equal(buildTraceSource({ kind: 'executor_planner' }), null);
  assert.throws(() => buildTraceSource({ kind: 'planner', url: 'http://127.0.0.1:1/v1', model: '' }), /model name/);
});
