/**
 * Writes the contract's JSON Schemas (generated from the zod schemas) into
 * backend/tracelift_backend/schemas/, where the Python side reads them, and
 * removes schema files the contract no longer has. Run after changing a zod
 * schema: `npm run schemas` (test/unit/schemasFresh.test.ts fails until then).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKEND_SCHEMA_DIR, contractSchemaFiles } from '../src/engine/contract/jsonSchemas';
import { findRepoRoot } from '../src/engine/util/repoRoot';

const dir = path.join(findRepoRoot(), BACKEND_SCHEMA_DIR);
const files = contractSchemaFiles();
fs.mkdirSync(dir, { recursive: true });
for (const old of fs.readdirSync(dir)) {
  if (old.endsWith('.schema.json') && !(old in files)) fs.rmSync(path.join(dir, old));
}
for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
process.stdout.write(`wrote ${Object.keys(files).length} schemas to ${BACKEND_SCHEMA_DIR}\n`);
