import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Manifest {
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  contributes: {
    configuration: { properties: Record<string, { scope?: string }> } | Array<{ properties: Record<string, { scope?: string }> }>;
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const sections = Array.isArray(manifest.contributes.configuration)
  ? manifest.contributes.configuration
  : [manifest.contributes.configuration];
const settings = Object.assign({}, ...sections.map((c) => c.properties)) as Record<string, { scope?: string }>;
const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;

test('every setting that names an endpoint, a program or a path ignores workspace values in an untrusted workspace', () => {
  const naming = Object.keys(settings).filter((k) => /(url|path|dir)$/i.test(k));
  assert.ok(naming.includes('tracelift.judge.url'));
  for (const key of naming) assert.ok(restricted.includes(key), `${key} is not in restrictedConfigurations`);
  // Machine-overridable settings are the ones a workspace must not point elsewhere.
  for (const [key, s] of Object.entries(settings))
    if (s.scope === 'machine-overridable') assert.ok(restricted.includes(key), `${key} (machine-overridable) is not restricted`);
});

test('every restricted configuration is a contributed setting', () => {
  for (const key of restricted) assert.ok(key in settings, `${key} is not a contributed setting`);
});
