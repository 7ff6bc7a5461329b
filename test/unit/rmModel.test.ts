import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveRmModelDir, rmModelId, rmModelRef, serveRunRm } from '../../src/engine/rm/rmModel';

/** A directory shaped like a saved RM (the files rm serve reads; contents are arbitrary here). */
function fakeRm(root: string): string {
  const model = path.join(root, 'model');
  fs.mkdirSync(path.join(model, 'adapter'), { recursive: true });
  fs.writeFileSync(path.join(model, 'rm_config.json'), '{"format":"tracelift-reason-rm"}');
  fs.writeFileSync(path.join(model, 'heads.safetensors'), Buffer.from([1, 2, 3]));
  fs.writeFileSync(path.join(model, 'adapter', 'adapter_model.safetensors'), Buffer.from([4, 5, 6]));
  return model;
}

test('an rm train run directory stands for its model/; anything else is refused with the reason', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rmref-'));
  const model = fakeRm(root);
  assert.equal(resolveRmModelDir(root), model);
  assert.equal(resolveRmModelDir(model), model);
  assert.throws(() => resolveRmModelDir(path.join(root, 'nope')), /no such directory/);
  assert.throws(() => resolveRmModelDir(path.join(model, 'adapter')), /not a Reason RM \(no rm_config\.json/);
});

test('the content id follows every file of the RM, not its path or time', () => {
  const a = fakeRm(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rmid-')));
  const b = fakeRm(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rmid-')));
  const id = rmModelId(a);
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(rmModelId(b), id, 'same files elsewhere: same id');
  fs.writeFileSync(path.join(b, 'adapter', 'adapter_model.safetensors'), Buffer.from([4, 5, 7]));
  assert.notEqual(rmModelId(b), id, 'a changed weight file changes the id');
  fs.renameSync(path.join(a, 'heads.safetensors'), path.join(a, 'heads2.safetensors'));
  assert.notEqual(rmModelId(a), id, 'a renamed file changes the id');
});

test('serving refuses an RM whose files changed since the run recorded it, before starting anything', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-rmserve-'));
  fakeRm(root);
  const ref = rmModelRef(root);
  fs.writeFileSync(path.join(ref.dir, 'heads.safetensors'), Buffer.from([9]));
  await assert.rejects(serveRunRm(ref, { pythonPath: '/nonexistent/python' }), /changed since the run started/);
});
