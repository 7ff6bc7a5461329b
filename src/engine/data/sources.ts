/**
 * Where each benchmark file is published and the bytes it must have.
 * One entry per file in the data directory's layout (the `path` a task module
 * names). The sums are those of the files in the project's data folder, which
 * are the published bytes (see that folder's README for how each was checked).
 * URLs are raw files at pinned commits, so they cannot drift.
 */
import type { TaskModule } from '../tasks/types';

export interface DataSource {
  /** Path relative to the data directory, as in a task's `files` (e.g. "gsm8k/test.jsonl"). */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  /** Where it is published, tried in order; all serve the same bytes. */
  urls: readonly string[];
  license: string;
}

const raw = (repo: string, commit: string, file: string) => `https://raw.githubusercontent.com/${repo}/${commit}/${file}`;

const GSM8K = ['openai/grade-school-math', '3101c7d5072418e28b9008a6636bde82a006892c'] as const;
const HUMANEVAL_PLUS = ['evalplus/humanevalplus_release', '200defce9e3429d28ca215b6dd061c0f7f31c18b'] as const;
const MBPP_PLUS = ['evalplus/mbppplus_release', 'dadf43da556a00f7bacd71cb154f2932757d9144'] as const;

export const DATA_SOURCES: readonly DataSource[] = [
  {
    path: 'gsm8k/test.jsonl',
    size: 749738,
    sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14',
    urls: [raw(...GSM8K, 'grade_school_math/data/test.jsonl')],
    license: 'MIT',
  },
  {
    path: 'gsm8k/train.jsonl',
    size: 4166206,
    sha256: '17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465',
    urls: [raw(...GSM8K, 'grade_school_math/data/train.jsonl')],
    license: 'MIT',
  },
  {
    path: 'gsm_hard/gsmhardv2.jsonl',
    size: 1138151,
    sha256: '2032b0188a49ac0ec38cbe1e695e7d62d6dddc44bbb64f920728aca710e9ddef',
    urls: [raw('reasoning-machines/pal', 'f81ca2a9777f002f98a6b4d0f10b61bd5c8feb02', 'datasets/gsmhardv2.jsonl')],
    license: 'Apache-2.0',
  },
  {
    path: 'svamp/SVAMP.json',
    size: 339970,
    sha256: '5be77703a6d891ae476d7c082787ad361392aa02453b132516cdd5f4e7934e3e',
    urls: [raw('arkilpatel/SVAMP', '689d7ccac74b9983a2ac7cc3b264f441b99e7c53', 'SVAMP.json')],
    license: 'MIT',
  },
  {
    // OpenAI keeps this file in Git LFS; the first URL is a byte-identical copy, the second the LFS object.
    path: 'math500/test.jsonl',
    size: 446564,
    sha256: '35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132',
    urls: [
      raw('MobileLLM/BudgetThinker', 'f0466b9d37595f46603387baa5930e312fefb7f5', 'evaluation/data/math500/test_ori.jsonl'),
      'https://media.githubusercontent.com/media/openai/prm800k/7ecc794703b2877f63226f2477a49b34f9b25163/prm800k/math_splits/test.jsonl',
    ],
    license: 'MIT',
  },
  {
    path: 'humaneval/HumanEval.jsonl.gz',
    size: 44877,
    sha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef',
    urls: [raw('openai/human-eval', '6d43fb980f9fee3c892a914eda09951f772ad10d', 'data/HumanEval.jsonl.gz')],
    license: 'MIT',
  },
  {
    path: 'humanevalplus/HumanEvalPlus.jsonl.gz',
    size: 925932,
    sha256: '272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101',
    urls: [raw(...HUMANEVAL_PLUS, 'HumanEvalPlus.jsonl.gz')],
    license: 'Apache-2.0',
  },
  {
    path: 'humanevalplus/HumanEvalPlus-Mini.jsonl.gz',
    size: 57064,
    sha256: '91486741f1627101021fbe50523df08eebb5b0bf5e804b633dcd5ca3c14dbd2f',
    urls: [raw(...HUMANEVAL_PLUS, 'HumanEvalPlus-Mini.jsonl.gz')],
    license: 'Apache-2.0',
  },
  {
    path: 'humanevalplus/HumanEvalPlus-NoExtreme.jsonl.gz',
    size: 925392,
    sha256: '298f79977b2663b8b8ab6b5fa50b17d6f23a92603d24f39e26203fe58c37eeda',
    urls: [raw(...HUMANEVAL_PLUS, 'HumanEvalPlus-NoExtreme.jsonl.gz')],
    license: 'Apache-2.0',
  },
  {
    path: 'mbppplus/MbppPlus.jsonl.gz',
    size: 336032,
    sha256: 'af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63',
    urls: [raw(...MBPP_PLUS, 'MbppPlus.jsonl.gz')],
    license: 'Apache-2.0',
  },
  {
    path: 'mbppplus/MbppPlus-NoExtreme.jsonl.gz',
    size: 335525,
    sha256: '72d32acaea73d5606cb97041b30d45bbda9435a675369d3e31965513ee94e564',
    urls: [raw(...MBPP_PLUS, 'MbppPlus-NoExtreme.jsonl.gz')],
    license: 'Apache-2.0',
  },
  {
    // A copy of google-research's mbpp/ folder (that repository is too large to clone).
    path: 'mbpp/mbpp.jsonl',
    size: 563743,
    sha256: 'ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f',
    urls: [raw('patdfb/TPC-EES', '30c8c572bfcd0fc5fa537210710d7fde134e4868', 'mbpp/mbpp.jsonl')],
    license: 'CC-BY-4.0',
  },
  {
    // Google's compact file (the copy above stores it re-indented, with other bytes).
    path: 'mbpp/sanitized-mbpp.json',
    size: 255053,
    sha256: 'ca95deaa9a01ef0a6f439f88bcf0dd3db3563d22f22aad6cae04ebb9a8d8c8e9',
    urls: [raw('google-research/google-research', '30adf0ec5f35f9609c2f1d896005e184195d9146', 'mbpp/sanitized-mbpp.json')],
    license: 'CC-BY-4.0',
  },
  {
    path: 'livecodebench/problems.jsonl',
    size: 725229,
    sha256: 'b88993c9917d1becf5473ab3ddf8f8f11314d7ad6bbbeeb37dd49824d1f9e2e0',
    urls: [raw('matt-seb-ho/mem2', '022411ff54c8e6b7e5e9db328f745f92f799146a', 'data/livecodebench_v56/problems.jsonl')],
    license: 'cc (LiveCodeBench dataset card)',
  },
  {
    path: 'livecodebench_rllm/livecodebench.json',
    size: 1790255,
    sha256: '9f4d51b47cb73a0dfd8e15f10245b30b3cfa2feefb0dbc7fb6ff421fefaca43c',
    urls: [raw('winnieyangwannan/rllm', '1d4cee26dd07f5c728033df06edd82359030b4cd', 'rllm/data/test/code/livecodebench.json')],
    license: 'MIT (rllm); LiveCodeBench "cc"',
  },
  {
    path: 'code_contests_rllm/code_contests.json',
    size: 2150332,
    sha256: 'bb2503759a2680f560949bc1fe47d3e6c2a6548e647b8f673b8a715fa706233c',
    urls: [raw('winnieyangwannan/rllm', '5255304e87b07e6e81e7c61d9dac3e4f160ec6a9', 'rllm/data/test/code/code_contests.json')],
    license: 'MIT (rllm); CodeContests CC-BY-4.0',
  },
];

/** The distinct files a task reads (several splits may share one file). */
export function taskFilePaths(task: TaskModule): string[] {
  return [...new Set(task.files.map((f) => f.path))];
}

/** The manifest entries for a task's files; a file without one is a programming error. */
export function sourcesForTask(task: TaskModule, sources: readonly DataSource[] = DATA_SOURCES): DataSource[] {
  return taskFilePaths(task).map((p) => {
    const source = sources.find((s) => s.path === p);
    if (!source) throw new Error(`No published source is listed for ${p} (task ${task.name}) in src/engine/data/sources.ts.`);
    return source;
  });
}

/** The URL of a file on a mirror that keeps the data directory's layout. */
export function mirrorUrl(mirror: string, source: DataSource): string {
  return `${mirror.replace(/\/+$/, '')}/${source.path}`;
}
