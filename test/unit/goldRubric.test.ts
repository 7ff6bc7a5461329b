import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256OfFile } from '../../src/engine/data/fetch';
import { buildEvalConfig } from '../../src/engine/eval/buildConfig';
import { goldRubricOf } from '../../src/extension/services/goldRubric';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'groups.gsm8k.jsonl');
const executor = {
  endpoint: {
    base_url: 'http://127.0.0.1:9/v1',
    model: 'm',
    api: 'chat' as const,
    api_key_env: null,
    timeout_ms: 1000,
    max_retries: 0,
    concurrency: 1,
  },
  origin: 'configured' as const,
};

async function runOver(groups: string): Promise<string> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-gold-run-'));
  const config = buildEvalConfig({
    task: 'gsm8k',
    traceSource: { kind: 'file', path: groups, format: 'groups' },
    executor,
    dataDir: runDir,
    cacheDir: runDir,
  });
  if (config.trace_source.kind === 'file') config.trace_source.sha256 = await sha256OfFile(groups);
  fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(config));
  return runDir;
}

test("a groups trace's gold rubric is read while the file is the one the run scored, and only then", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-gold-'));
  const groups = path.join(dir, 'groups.jsonl');
  fs.copyFileSync(FIXTURE, groups);
  const runDir = await runOver(groups);
  const record = JSON.parse(fs.readFileSync(FIXTURE, 'utf8').split('\n')[0]!) as {
    problem_id: string;
    negative_bank: { rubric: Record<string, number> }[];
  };
  const gold = await goldRubricOf(runDir, `${record.problem_id}#neg0`);
  assert.deepEqual(gold, record.negative_bank[0]!.rubric);
  assert.equal(await goldRubricOf(runDir, `${record.problem_id}#neg99`), null, 'no such trace');
  // The file edited after the run: its rubric is not the one the run scored.
  fs.appendFileSync(groups, '\n');
  assert.equal(await goldRubricOf(runDir, `${record.problem_id}#neg0`), null);
  // A run that did not score a groups file has none.
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-gold-run-'));
  assert.equal(await goldRubricOf(other, `${record.problem_id}#neg0`), null);
});
