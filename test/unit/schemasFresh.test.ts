/**
 * The JSON Schemas committed for the Python side must be what the zod
 * contract generates now: a changed zod schema without `npm run schemas`
 * fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKEND_SCHEMA_DIR, contractSchemaFiles } from '../../src/engine/contract/jsonSchemas';

const dir = path.join(__dirname, '..', '..', BACKEND_SCHEMA_DIR);
const HOW = 'run `npm run schemas` and commit backend/tracelift_backend/schemas/';

test('committed backend schemas match the zod contract', () => {
  const expected = contractSchemaFiles();
  const committed = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.schema.json')) : [];
  assert.deepEqual(committed.sort(), Object.keys(expected).sort(), `schema files differ from the contract's: ${HOW}`);
  for (const [name, text] of Object.entries(expected)) {
    const onDisk = fs.readFileSync(path.join(dir, name), 'utf8');
    assert.ok(onDisk === text, `${BACKEND_SCHEMA_DIR}/${name} is stale: ${HOW}`);
  }
});
