/**
 * Numeric answer checking on the published GSM8K, GSM-Hard and SVAMP files
 * (data dir: $TRACELIFT_DATA_DIR or ../shared/data beside the repository):
 * every reference is accepted in the ways a model writes it, and the near
 * misses (off by one, sign, rounding to an integer, a relative 10^-6 drift,
 * hedges) are rejected. GSM-Hard is also checked against its raw float
 * targets (3244047.0999999996), as `tracelift verify math` receives them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyNumeric } from '../../src/engine/verify/math/numeric';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { getTask } from '../../src/engine/tasks/registry';
import { formatNumber } from '../../src/engine/tasks/math/numberFormat';

let dataDir: string | null = null;
try {
  dataDir = resolveDataDir();
} catch {
  dataDir = null;
}
const skip = dataDir === null ? 'no data directory (see README: data)' : false;

/** `decimal` + `delta` units of its integer part, exactly ("3244047.1" + 1 = "3244048.1"). */
function addToInteger(decimal: string, delta: bigint): string | null {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (!m) return null;
  const signed = (m[1] === '-' ? -1n : 1n) * BigInt(m[2]!);
  const frac = m[3] ?? '';
  const next = signed + delta;
  // -0.5 + 1 = 0.5: the fraction keeps its sign through zero
  if (m[1] === '-' && frac && next >= 0n) return null;
  return `${next < 0n || (m[1] === '-' && frac) ? '-' : ''}${next < 0n ? -next : next}${frac}`;
}

function withThousands(decimal: string): string {
  return decimal.replace(/^(-?)(\d+)/, (_, s: string, d: string) => s + d.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
}

interface Tally {
  accepted: number;
  positives: number;
  falseAccepts: string[];
  negatives: number;
}

function checkReference(reference: string, tally: Tally, extraPositives: string[] = []): void {
  const positives = [
    reference,
    `The answer is ${reference}.`,
    `She works it out step by step.\n#### ${withThousands(reference)}`,
    `\\boxed{${reference}}`,
    `Final answer: ${withThousands(reference)}`,
    ...extraPositives,
  ];
  for (const p of positives) {
    tally.positives++;
    const v = verifyNumeric(p, reference);
    if (v.correct) tally.accepted++;
    else assert.fail(`${JSON.stringify(p)} rejected for ${reference} (read ${v.extracted})`);
  }
  const value = Number(reference);
  const negatives: string[] = [];
  for (const d of [1n, -1n]) {
    const off = addToInteger(reference, d);
    if (off !== null) negatives.push(off);
  }
  if (value !== 0) negatives.push(reference.startsWith('-') ? reference.slice(1) : `-${reference}`);
  if (!Number.isInteger(value)) negatives.push(String(Math.round(value)), String(Math.trunc(value)));
  // a relative drift of 10^-6 (18.000018, 3244050.34)
  if (value !== 0) negatives.push(String(Number((value * (1 + 1e-6)).toPrecision(12))));
  const next = addToInteger(reference, 1n);
  if (next !== null) {
    negatives.push(
      `${reference} or ${next}`,
      `${next} or ${reference}`,
      `The answer is ${next} or ${reference}.`,
      `The answer is ${reference} or ${next}.`,
      `either ${next} or ${reference}`,
      `#### ${reference} (or ${next})`,
    );
  }
  for (const n of negatives) {
    tally.negatives++;
    const v = verifyNumeric(n, reference);
    if (v.correct) tally.falseAccepts.push(`${JSON.stringify(n)} accepted for ${reference}`);
  }
}

function report(task: string, t: Tally): void {
  console.log(
    `${task}: ${t.accepted}/${t.positives} correct writings accepted, ` + `${t.falseAccepts.length}/${t.negatives} wrong answers accepted`,
  );
}

describe('numeric answers on the published data', { skip }, () => {
  for (const task of ['gsm8k', 'gsm_hard', 'svamp']) {
    it(`${task}: every reference accepted, near misses rejected`, () => {
      const problems = getTask(task).load(dataDir!, 'test');
      const tally: Tally = { accepted: 0, positives: 0, falseAccepts: [], negatives: 0 };
      for (const p of problems) if (p.kind === 'math') checkReference(p.answer, tally);
      report(task, tally);
      assert.ok(tally.positives >= problems.length * 5);
      assert.deepEqual(tally.falseAccepts, []);
    });
  }

  it('gsm_hard: raw float targets match their shortest decimal, not a 10^-6 neighbour', () => {
    const file = join(dataDir!, 'gsm_hard', 'gsmhardv2.jsonl');
    const targets = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { target: number }).target);
    let floatRenderings = 0;
    for (const target of targets) {
      const raw = String(target); // e.g. 3244047.0999999996
      const written = formatNumber(target); // e.g. 3244047.1
      if (raw !== written) floatRenderings++;
      assert.equal(verifyNumeric(`The answer is ${written}`, raw).correct, true, `${written} for ${raw}`);
      assert.equal(verifyNumeric(`The answer is ${raw}`, written).correct, true, `${raw} for ${written}`);
      if (!Number.isInteger(Number(written))) {
        // 55938720.00000001 is the integer 55938720; 3244047.0999999996 is not 3244047
        assert.equal(verifyNumeric(`#### ${Math.round(target)}`, raw).correct, false, `${Math.round(target)} for ${raw}`);
      }
      if (Math.abs(target) >= 1e3) {
        // 3244050 for 3244047.0999999996: within 1e-6 relative, still a different number
        const near = Math.round(target * (1 + 9e-7));
        if (near !== Math.round(target)) assert.equal(verifyNumeric(`#### ${near}`, raw).correct, false, `${near} for ${raw}`);
      }
    }
    console.log(`gsm_hard raw targets: ${targets.length} checked, ${floatRenderings} written with float noise`);
    assert.ok(floatRenderings > 0);
  });
});
