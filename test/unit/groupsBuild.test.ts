/**
 * The groups builder on REAL GSM8K train solutions: the official cleaning
 * rule, each programmatic perturbation's defining change (checked by
 * re-reading the perturbed annotations), determinism under a seed, the LLM
 * candidate checks, judge parsing and bucketing, and whole builds (schema,
 * summary counts, resume, byte-identical rebuilds) with fake LLM endpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GroupRecordSchema, GroupsBuildSummarySchema, EndpointSchema, RUBRIC_DIMENSIONS } from '../../src/engine/contract';
import { ExecutorClient } from '../../src/engine/executor/client';
import {
  buildGsm8kGroups,
  carelessValues,
  cleanGsm8kReasoning,
  evaluateTokens,
  extractPerturbedReasoning,
  llmCandidateRejection,
  LlmPerturber,
  parseGsm8kSolution,
  parseJudgeRubric,
  perturbMath,
  PRIOR_LABELS,
  priorRubric,
  PROGRAMMATIC_MATH_KINDS,
  RubricJudge,
  summaryPath,
  type MathPerturbation,
} from '../../src/engine/groups/build';
import { formatValue, sameValue } from '../../src/engine/groups/build/calc';
import { streamFor } from '../../src/engine/groups/build/rng';
import { readGroupsFile } from '../../src/engine/groups';
import { resolveDataDir } from '../../src/engine/tasks/dataDir';
import { gsm8kFinalAnswer } from '../../src/engine/tasks/math/gsm8k';
import { verifyNumeric } from '../../src/engine/verify/math/numeric';
import { startFakeOpenAI } from '../helpers/fakeOpenAI';

const DATA_DIR = resolveDataDir();
const ROWS = fs
  .readFileSync(path.join(DATA_DIR, 'gsm8k', 'train.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, 60)
  .map((l) => JSON.parse(l) as { question: string; answer: string });

function input(row: number, seed = 0) {
  const r = ROWS[row]!;
  return { problemId: `math_gsm8k_${row}`, problem: r.question, answer: r.answer, gold: gsm8kFinalAnswer(r.answer), seed };
}

/** Every step of a (perturbed) raw solution whose stated result is not what its expression gives. */
function inconsistentSteps(raw: string): number[] {
  return parseGsm8kSolution(raw).steps.flatMap((s) => {
    const v = evaluateTokens(s.tokens)!;
    return sameValue(v, s.value) || formatValue(v) === s.result ? [] : [s.index];
  });
}

function perturbationsOf(kind: (typeof PROGRAMMATIC_MATH_KINDS)[number], seed = 0): { row: number; p: MathPerturbation }[] {
  const out: { row: number; p: MathPerturbation }[] = [];
  ROWS.forEach((_, row) => {
    const res = perturbMath(kind, input(row, seed));
    if (res.ok) out.push({ row, p: res.perturbation });
  });
  return out;
}

test('cleaning: the official rule keeps an annotation’s inner text when a number follows it', () => {
  assert.equal(
    cleanGsm8kReasoning('Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72'),
    'Natalia sold 48/2 = 48/2=24 clips in May.\nShe sold 48+24 = 48+24=72 clips.',
  );
  // A "$" after the annotation and a "%" belong to its number (one before it stays); thousands separators too.
  assert.equal(cleanGsm8kReasoning('Weng earns $<<12/60=0.2>>0.2 per minute.\n#### 0.2'), 'Weng earns $12/60=0.2 per minute.');
  assert.equal(cleanGsm8kReasoning('It is <<2000/100=20>>20% or <<1000*2=2000>>2,000 in all'), 'It is 2000/100=20 or 1000*2=2000 in all');
  // Not followed by a number (the official regex needs a digit first): left as it is.
  assert.equal(cleanGsm8kReasoning('So <<2/10=.2>>.2 of them\n#### .2'), 'So <<2/10=.2>>.2 of them');
  assert.equal(cleanGsm8kReasoning('He has <<3+4=7>> apples'), 'He has <<3+4=7>> apples');
  // Lines right-stripped, trailing blank lines dropped, the tail cut from the whitespace before "####".
  assert.equal(cleanGsm8kReasoning('  a = <<1+1=2>>2   \nb  \n\n\n  #### 2  '), 'a = 1+1=2\nb');
  // Real train rows: no "####" is left, and every calc annotation followed by a number is gone.
  for (const r of ROWS) {
    const clean = cleanGsm8kReasoning(r.answer);
    assert.ok(!clean.includes('####'));
    assert.ok(!/<<[^<>]+>>\s*\$?\d/.test(clean), clean);
  }
});

test('the computation graph: every train annotation parses and gives its stated result; dependencies link results to later operands', () => {
  for (const r of ROWS) {
    const sol = parseGsm8kSolution(r.answer);
    assert.ok(sol.steps.every((s) => s.consistent));
    assert.equal(cleanGsm8kReasoning(sol.body), cleanGsm8kReasoning(r.answer));
  }
  const natalia = parseGsm8kSolution(ROWS[0]!.answer);
  assert.deepEqual(
    natalia.steps.map((s) => s.operandSources),
    [
      [null, null, null],
      [null, null, 0],
    ],
  );
});

test('arithmetic_error: exactly one result is wrong, the steps after it compute from it, the gold answer no longer follows', () => {
  const all = perturbationsOf('arithmetic_error');
  assert.ok(all.length >= 0.8 * ROWS.length, `${all.length} of ${ROWS.length}`);
  for (const { row, p } of all) {
    const gold = input(row).gold;
    const original = parseGsm8kSolution(ROWS[row]!.answer);
    const perturbed = parseGsm8kSolution(p.raw);
    assert.equal(perturbed.steps.length, original.steps.length);
    assert.deepEqual(inconsistentSteps(p.raw), [p.detail.step], p.raw);
    const changed = perturbed.steps[p.detail.step as number]!;
    assert.equal(changed.result, p.detail.stated);
    assert.notEqual(changed.result, p.detail.correct);
    // Dependents were recomputed from the wrong value: some later operand carries it.
    const dependents = original.steps.filter((s) => s.operandSources.includes(p.detail.step as number));
    for (const d of dependents) {
      assert.ok(
        perturbed.steps[d.index]!.tokens.some((t) => t.type === 'num' && t.text === p.detail.stated),
        p.raw,
      );
    }
    assert.notEqual(p.reasoning, cleanGsm8kReasoning(ROWS[row]!.answer));
    assert.equal(verifyNumeric(p.reasoning, gold).correct, false, p.reasoning);
  }
});

test('incorrect_operation: one operator swapped in the annotation and its sentence, everything recomputed consistently', () => {
  const all = perturbationsOf('incorrect_operation');
  assert.ok(all.length >= 0.7 * ROWS.length, `${all.length} of ${ROWS.length}`);
  for (const { row, p } of all) {
    const original = parseGsm8kSolution(ROWS[row]!.answer);
    const perturbed = parseGsm8kSolution(p.raw);
    assert.deepEqual(inconsistentSteps(p.raw), [], p.raw);
    const ops = (s: (typeof original.steps)[number]) => s.tokens.flatMap((t) => (t.type === 'op' ? [t.op] : []));
    const differing = original.steps.filter((s, i) => ops(s).join() !== ops(perturbed.steps[i]!).join());
    assert.deepEqual(
      differing.map((s) => s.index),
      [p.detail.step],
    );
    const before = ops(original.steps[p.detail.step as number]!);
    const after = ops(perturbed.steps[p.detail.step as number]!);
    assert.equal(before.filter((o, i) => o !== after[i]).length, 1);
    assert.equal(verifyNumeric(p.reasoning, input(row).gold).correct, false, p.reasoning);
    // The restated sentence shows the new operator right before the annotation's text.
    const line = p.reasoning.split('\n').find((l) => l.includes(`${after.join('')}`) || l.includes(p.detail.to as string));
    assert.ok(line, p.reasoning);
  }
});

test('unsupported_leap: one computation is removed and a value asserted in its place; the rest follows from it', () => {
  const all = perturbationsOf('unsupported_leap');
  assert.ok(all.length >= 0.7 * ROWS.length, `${all.length} of ${ROWS.length}`);
  for (const { row, p } of all) {
    const original = parseGsm8kSolution(ROWS[row]!.answer);
    const perturbed = parseGsm8kSolution(p.raw);
    assert.equal(perturbed.steps.length, original.steps.length - 1, p.raw);
    assert.deepEqual(inconsistentSteps(p.raw), [], p.raw);
    assert.notEqual(p.detail.asserted, p.detail.correct);
    assert.ok(p.reasoning.includes(String(p.detail.asserted)));
    assert.equal(verifyNumeric(p.reasoning, input(row).gold).correct, false, p.reasoning);
  }
});

test('premature_answer: the reasoning stops after an earlier step and states its (non-final) value as the answer', () => {
  const all = perturbationsOf('premature_answer');
  assert.ok(all.length >= 0.8 * ROWS.length, `${all.length} of ${ROWS.length}`);
  for (const { row, p } of all) {
    const positive = cleanGsm8kReasoning(ROWS[row]!.answer).split('\n');
    const lines = p.reasoning.split('\n');
    assert.deepEqual(lines.slice(0, -1), positive.slice(0, lines.length - 1), 'a prefix of the positive');
    assert.ok(lines.length - 1 < positive.length);
    assert.match(lines.at(-1)!, new RegExp(`answer is ${String(p.detail.stated).replace('.', '\\.')}\\.$`));
    assert.ok(!sameValue(Number(p.detail.stated), Number(input(row).gold)));
    assert.equal(verifyNumeric(p.reasoning, input(row).gold).correct, false);
  }
});

test('perturbations are deterministic under a seed and vary with it', () => {
  for (const kind of PROGRAMMATIC_MATH_KINDS) {
    const a = perturbationsOf(kind, 7);
    const b = perturbationsOf(kind, 7);
    assert.deepEqual(a, b);
  }
  const seeds = [1, 2, 3].map((s) => perturbationsOf('arithmetic_error', s).map(({ p }) => p.reasoning));
  assert.notDeepEqual(seeds[0], seeds[1]);
  // A stream depends on its seed and purpose only.
  assert.equal(streamFor(3, 'x', 'y')(), streamFor(3, 'x', 'y')());
  assert.notEqual(streamFor(3, 'x', 'y')(), streamFor(4, 'x', 'y')());
});

test('careless values are plausible slips, never the value itself', () => {
  for (const v of [24, 72, 5, 0.2, 1000, 36000, 7.5]) {
    const slips = carelessValues(v, streamFor(0, String(v)));
    assert.ok(slips.length >= 3);
    for (const s of slips) assert.ok(!sameValue(Number(s), v) && Number(s) > 0, `${v} → ${s}`);
  }
  assert.ok(carelessValues(72, streamFor(0, 'x')).includes('27'), 'swapped digits');
});

test('a solution without a step giving the answer is refused with the reason', () => {
  const res = perturbMath('arithmetic_error', { ...input(0), answer: 'She has 3 apples.\n#### 3' });
  assert.deepEqual(res, { ok: false, reason: 'the solution has no calculator annotations' });
  const other = perturbMath('premature_answer', { ...input(0), gold: '999' });
  assert.deepEqual(other, { ok: false, reason: 'no annotated step gives the gold answer' });
});

test('LLM candidates: extracted from <reasoning>, refused when empty, unchanged, off the problem, naming the flaw, or still gold', () => {
  assert.equal(extractPerturbedReasoning('Sure!\n<reasoning>\nA b c\n</reasoning> bye'), 'A b c');
  assert.equal(extractPerturbedReasoning('<REASONING>cut off here'), 'cut off here');
  const r = ROWS[0]!;
  const positive = cleanGsm8kReasoning(r.answer);
  const ctx = { taskKind: 'math' as const, problemId: 'p', problem: r.question, positive, gold: '72', seed: 0 };
  assert.equal(llmCandidateRejection('', ctx), 'llm_empty');
  assert.equal(llmCandidateRejection(`  ${positive.replace(/\n/g, '\n  ')} `, ctx), 'llm_same_as_positive');
  assert.equal(llmCandidateRejection('x'.repeat(1000), ctx), 'llm_length');
  assert.equal(llmCandidateRejection('The weather in Paris was sunny and warm all through the summer season.', ctx), 'llm_off_problem');
  assert.equal(
    llmCandidateRejection('Natalia sold 48 clips in April. The flaw: she sold 48 clips in May, 96 clips altogether.', ctx),
    'llm_names_the_flaw',
  );
  assert.equal(
    llmCandidateRejection('Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips in April and May.', ctx),
    'llm_still_gold',
  );
  assert.equal(llmCandidateRejection('Natalia sold 48 clips in April and May, so she sold 48 clips altogether.', ctx), null);
});

test('judge replies: the official bucketing of 0–10 scores, total = rubric_score / 10; a missing dimension is an error', () => {
  const reply =
    'Here: {"problem_understanding": 9.5, "solution_strategy": 7, "step_coherence": "4.9", "calculation_correctness": 0, "answer_support": 1.9, "rubric_score": 4.25, "rubric_label": "weak", "rubric_reason": "Bad sum."} done';
  assert.deepEqual(parseJudgeRubric('math', reply), {
    rubric: {
      problem_understanding: 4,
      solution_strategy: 3,
      step_coherence: 2,
      calculation_correctness: 0,
      answer_support: 0,
      total: 0.425,
    },
    rubric_source: 'judge',
    rubric_label: 'weak',
    rubric_score_raw: 4.25,
    rubric_reason: 'Bad sum.',
  });
  assert.deepEqual(parseJudgeRubric('math', '{"problem_understanding": 3}'), { error: 'judge reply lacks solution_strategy' });
  assert.deepEqual(parseJudgeRubric('math', 'Score: 7'), { error: 'judge reply has no JSON object' });
  // Priors cover every kind, with labels 0–4 in the domain's dimension order and total = mean label / 4.
  for (const [kind, labels] of Object.entries(PRIOR_LABELS)) {
    assert.equal(labels.length, 5);
    const domain =
      kind in
      { arithmetic_error: 1, incorrect_operation: 1, missing_condition: 1, mismatched_units: 1, unsupported_leap: 1, premature_answer: 1 }
        ? 'math'
        : 'code';
    const prior = priorRubric(domain, kind as keyof typeof PRIOR_LABELS);
    assert.deepEqual(
      Object.keys(prior.rubric).filter((k) => k !== 'total'),
      [...RUBRIC_DIMENSIONS[domain]],
    );
    assert.equal(prior.rubric.total, labels.reduce((a, b) => a + b, 0) / 20);
  }
});

function tmpOut(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-groups-')), 'groups.jsonl');
}

const PROGRAMMATIC = [...PROGRAMMATIC_MATH_KINDS];

test('a programmatic build: every record validates, the summary adds up, the same seed gives the same bytes, a resume continues it', async () => {
  const a = tmpOut();
  const summary = await buildGsm8kGroups({
    split: 'train',
    dataDir: DATA_DIR,
    limit: 12,
    out: a,
    seed: 5,
    kinds: PROGRAMMATIC,
    perturber: null,
    judge: null,
    measure: null,
  });
  const records = readGroupsFile(a);
  for (const line of fs.readFileSync(a, 'utf8').trim().split('\n')) GroupRecordSchema.parse(JSON.parse(line));
  const parsed = GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryPath(a), 'utf8')));
  assert.deepEqual(parsed, summary);
  assert.equal(summary.status, 'completed');
  assert.equal(summary.problems_seen, 12);
  assert.equal(summary.groups_written + summary.groups_dropped, 12);
  assert.equal(records.length, summary.groups_written);
  assert.equal(
    Object.values(summary.drop_reasons).reduce((x, y) => x + y, 0),
    summary.groups_dropped,
  );
  const negatives = records.flatMap((r) => r.negative_bank);
  assert.equal(
    Object.values(summary.negative_kind_counts).reduce((x, y) => x + y, 0),
    negatives.length,
  );
  for (const kind of PROGRAMMATIC) {
    const written = summary.negative_kind_counts[kind] ?? 0;
    const dropped = Object.values(summary.candidates_dropped[kind] ?? {}).reduce((x, y) => x + y, 0);
    // Every problem either yields the kind or says why not (dropped problems' candidates were counted too).
    assert.ok(written + dropped >= summary.groups_written, kind);
  }
  assert.equal(summary.rubric_sources.prior, negatives.length + records.length);
  for (const r of records) {
    assert.match(r.problem_id, /^math_gsm8k_\d{6}$/);
    assert.ok(r.negative_bank.length >= 4);
    assert.equal(r.positive_pool[0]!.rubric!.total, 1);
    for (const n of r.negative_bank) assert.equal(verifyNumeric(n.reasoning, r.reference_solution!).correct, false);
  }

  const b = tmpOut();
  await buildGsm8kGroups({
    split: 'train',
    dataDir: DATA_DIR,
    limit: 12,
    out: b,
    seed: 5,
    kinds: PROGRAMMATIC,
    perturber: null,
    judge: null,
    measure: null,
  });
  assert.equal(fs.readFileSync(b, 'utf8'), fs.readFileSync(a, 'utf8'));
  assert.equal(fs.readFileSync(summaryPath(b), 'utf8'), fs.readFileSync(summaryPath(a), 'utf8'));

  // A crash that cut the last line, then the same command with a larger limit: the cut line goes, the rest is kept.
  const c = tmpOut();
  await buildGsm8kGroups({
    split: 'train',
    dataDir: DATA_DIR,
    limit: 7,
    out: c,
    seed: 5,
    kinds: PROGRAMMATIC,
    perturber: null,
    judge: null,
    measure: null,
  });
  fs.appendFileSync(c, '{"problem_id": "math_gsm8k_0000');
  await buildGsm8kGroups({
    split: 'train',
    dataDir: DATA_DIR,
    limit: 12,
    out: c,
    seed: 5,
    kinds: PROGRAMMATIC,
    perturber: null,
    judge: null,
    measure: null,
  });
  assert.equal(fs.readFileSync(c, 'utf8'), fs.readFileSync(a, 'utf8'));
  const resumed = GroupsBuildSummarySchema.parse(JSON.parse(fs.readFileSync(summaryPath(c), 'utf8')));
  assert.deepEqual(resumed, summary);

  // Other settings do not resume a file.
  await assert.rejects(
    buildGsm8kGroups({
      split: 'train',
      dataDir: DATA_DIR,
      limit: 12,
      out: c,
      seed: 6,
      kinds: PROGRAMMATIC,
      perturber: null,
      judge: null,
      measure: null,
    }),
    /another seed/,
  );
});

test('LLM kinds through an OpenAI-compatible endpoint: valid replies are written, invalid ones dropped and counted, replies cached', async () => {
  // A perturber that leaves out "half as many" for the first problem and answers junk otherwise.
  const server = await startFakeOpenAI({
    answer: (prompt) =>
      prompt.includes('Natalia') && prompt.includes('ignores exactly one condition')
        ? '<reasoning>\nNatalia sold 48 clips in May.\nNatalia sold 48+48 = 96 clips altogether in April and May.\n</reasoning>'
        : 'The weather in Paris was sunny and warm all through the long summer season of that year, they said.',
  });
  const judgeServer = await startFakeOpenAI({
    answer: (prompt) =>
      prompt.includes('Problem:')
        ? '{"problem_understanding": 8, "solution_strategy": 6, "step_coherence": 7, "calculation_correctness": 2, "answer_support": 3, "rubric_score": 5.5, "rubric_label": "weak", "rubric_reason": "x"}'
        : '',
  });
  try {
    const endpoint = (url: string) => EndpointSchema.parse({ base_url: url, model: 'fake', max_retries: 0 });
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-perturb-cache-'));
    const make = () => ({
      perturber: new LlmPerturber(new ExecutorClient(endpoint(server.url)), { identity: 'fake', cacheDir }),
      judge: new RubricJudge(new ExecutorClient(endpoint(judgeServer.url))),
    });
    const out = tmpOut();
    const summary = await buildGsm8kGroups({ split: 'train', dataDir: DATA_DIR, limit: 3, out, seed: 1, measure: null, ...make() });
    const records = readGroupsFile(out);
    const llm = records.flatMap((r) => r.negative_bank.filter((n) => n.negative_kind === 'missing_condition'));
    assert.equal(llm.length, 1);
    assert.match(llm[0]!.reasoning, /^Natalia sold 48 clips in May\./);
    assert.equal(summary.negative_kind_counts.missing_condition, 1);
    assert.equal(summary.candidates_dropped.missing_condition?.llm_off_problem, 2);
    assert.equal(summary.candidates_dropped.mismatched_units?.llm_off_problem, 3);
    // Every negative was judged: dimensions bucketed, total from rubric_score.
    for (const n of records.flatMap((r) => r.negative_bank)) {
      assert.equal(n.rubric_source, 'judge');
      assert.deepEqual(n.rubric, {
        total: 0.55,
        problem_understanding: 4,
        solution_strategy: 3,
        step_coherence: 3,
        calculation_correctness: 1,
        answer_support: 1,
      });
    }
    assert.equal(summary.rubric_sources.judge, records.flatMap((r) => r.negative_bank).length);

    // Again with the cache: the perturber is not asked, and the file is the same.
    const asked = server.requests.length;
    const again = tmpOut();
    await buildGsm8kGroups({ split: 'train', dataDir: DATA_DIR, limit: 3, out: again, seed: 1, measure: null, ...make() });
    assert.equal(server.requests.length, asked);
    assert.equal(fs.readFileSync(again, 'utf8'), fs.readFileSync(out, 'utf8'));
  } finally {
    await server.close();
    await judgeServer.close();
  }
});

test('an unreachable perturber: the LLM kinds are dropped as failed calls, the programmatic ones still written', async () => {
  const server = await startFakeOpenAI({ answer: () => '', alwaysFail: true, failStatus: 400 });
  try {
    const endpoint = EndpointSchema.parse({ base_url: server.url, model: 'fake', max_retries: 0, down_after_failures: 0 });
    const perturber = new LlmPerturber(new ExecutorClient(endpoint), { identity: 'fake', cacheDir: null });
    const out = tmpOut();
    const summary = await buildGsm8kGroups({
      split: 'train',
      dataDir: DATA_DIR,
      limit: 2,
      out,
      seed: 0,
      perturber,
      judge: null,
      measure: null,
    });
    assert.equal(summary.candidates_dropped.missing_condition?.llm_call_failed, 2);
    assert.equal(summary.candidates_dropped.mismatched_units?.llm_call_failed, 2);
    assert.equal(summary.groups_written, 2);
    assert.ok(
      readGroupsFile(out).every((r) =>
        r.negative_bank.every((n) => n.metadata && (n.metadata as { generator: string }).generator === 'programmatic'),
      ),
    );
  } finally {
    await server.close();
  }
});

test('a cancel while a problem is being built: that problem is not written, the summary says cancelled, a resume finishes it', async () => {
  const controller = new AbortController();
  const server = await startFakeOpenAI({
    answer: (prompt) => {
      if (prompt.includes('Weng')) controller.abort();
      return 'The weather in Paris was sunny and warm all through the long summer season of that year, they said.';
    },
  });
  try {
    const endpoint = EndpointSchema.parse({ base_url: server.url, model: 'fake', max_retries: 0 });
    const perturber = () => new LlmPerturber(new ExecutorClient(endpoint), { identity: 'fake', cacheDir: null });
    const out = tmpOut();
    const opts = { split: 'train', dataDir: DATA_DIR, limit: 3, out, seed: 0, judge: null, measure: null };
    const summary = await buildGsm8kGroups({ ...opts, perturber: perturber(), signal: controller.signal });
    assert.equal(summary.status, 'cancelled');
    assert.equal(summary.problems_seen, 1);
    assert.deepEqual(
      readGroupsFile(out).map((r) => r.problem_id),
      ['math_gsm8k_000000'],
    );
    assert.equal(summary.candidates_dropped.missing_condition?.llm_off_problem, 1, 'only the committed problem is counted');
    const resumed = await buildGsm8kGroups({ ...opts, perturber: perturber() });
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.problems_seen, 3);
    assert.deepEqual(
      readGroupsFile(out).map((r) => r.problem_id),
      ['math_gsm8k_000000', 'math_gsm8k_000001', 'math_gsm8k_000002'],
    );
    assert.equal(resumed.candidates_dropped.missing_condition?.llm_off_problem, 3);
  } finally {
    await server.close();
  }
});
